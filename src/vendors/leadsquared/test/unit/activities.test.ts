import { describe, expect, it } from 'vitest';
import { activityFromRecord, checkActivity, isSameActivity } from '../../sales-activities.js';

describe('LeadSquared activity rows', () => {
  it('pass with an email, an event code, a time (UTC unless zoned) and custom fields', () => {
    const fields = {
      EmailAddress: 'ann@example.com',
      ActivityEvent: '201',
      ActivityNote: 'called',
      ActivityDateTime: '2024-05-01 10:00:00',
      mx_Custom_1: 'answered',
    };
    expect(checkActivity(fields)).toEqual([]);
    expect(activityFromRecord({ row: 4, email: 'ann@example.com', fields })).toEqual({
      row: 4,
      email: 'ann@example.com',
      event: 201,
      note: 'called',
      at: new Date('2024-05-01T10:00:00Z'),
      fields: { mx_Custom_1: 'answered' },
    });
    expect(
      activityFromRecord({
        row: 1,
        email: 'ann@example.com',
        fields: { ...fields, ActivityDateTime: '2024-05-01T12:00:00+02:00' },
      }).at,
    ).toEqual(new Date('2024-05-01T10:00:00Z'));
  });

  it('name the field at fault: email, event code, time, unknown field', () => {
    const problems = checkActivity({
      EmailAddress: 'nope',
      ActivityEvent: 'call',
      ActivityDateTime: 'yesterday',
      Outcome: 'x',
    });
    expect(problems.map((p) => p.field)).toEqual(['EmailAddress', 'ActivityEvent', 'ActivityDateTime', 'Outcome']);
    expect(checkActivity({ EmailAddress: 'ann@example.com' })).toEqual([
      { field: 'ActivityEvent', reason: 'is required: an activity type code (a positive whole number)' },
    ]);
  });
});

describe('isSameActivity, on the answer Retrieve documents', () => {
  const sent = {
    row: 1,
    event: 201,
    note: 'call 1',
    at: new Date('2024-05-01T10:00:00Z'),
    fields: { mx_Custom_1: 'a' },
  };
  const stored = {
    event: 201,
    createdOn: '2024-05-01 10:00:00',
    data: {
      NotableEventDescription: 'Called',
      ActivityEvent_Note: 'call 1',
      mx_Custom_1: 'a',
      mx_Custom_9: 'set by a rule',
    },
  };

  it('matches on the event, the note in Data, the time in CreatedOn and the fields sent, ignoring other keys', () => {
    expect(isSameActivity(stored, sent)).toBe(true);
  });

  it.each([
    ['another event', { ...stored, event: 202 }],
    ['another note', { ...stored, data: { ...stored.data, ActivityEvent_Note: 'call 2' } }],
    ['another time', { ...stored, createdOn: '2024-05-01 10:00:01' }],
    ['another field value', { ...stored, data: { ...stored.data, mx_Custom_1: 'b' } }],
  ])('tells apart %s', (_case, other) => {
    expect(isSameActivity(other, sent)).toBe(false);
  });

  it('does not compare the time of a row that gives none: the vendor stamps its own', () => {
    const { at: _at, ...untimed } = sent;

    expect(isSameActivity({ ...stored, createdOn: '2030-01-01 00:00:00' }, untimed)).toBe(true);
  });
});
