import { describe, expect, it } from 'vitest';
import { activityFromRecord, checkActivity } from '../../src/vendors/leadsquared/activities.js';

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
