import { describe, expect, it } from 'vitest';
import { MAX_CUSTOM_FIELDS, MAX_LENGTH, checkLead, toSmartLeadLead } from '../../fields.js';

describe('SmartLead lead fields', () => {
  it('passes a lead with standard and custom fields', () => {
    expect(
      checkLead({
        email: 'ann@acme.com',
        first_name: 'Ann',
        company_url: 'acme.com',
        'custom_fields.job_title': 'CEO',
      }),
    ).toEqual([]);
  });

  it('requires a valid email', () => {
    expect(checkLead({ first_name: 'Ann' })).toEqual([{ field: 'email', reason: expect.stringContaining('needs') }]);
    expect(checkLead({ email: 'ann@' })).toEqual([{ field: 'email', reason: expect.stringContaining('not a valid') }]);
  });

  it('names an unknown field and says how custom fields are written', () => {
    const problems = checkLead({ email: 'ann@acme.com', job_title: 'CEO' });

    expect(problems).toEqual([{ field: 'job_title', reason: expect.stringContaining('custom_fields.<name>') }]);
  });

  it('names the field whose value is too long', () => {
    const problems = checkLead({
      email: 'ann@acme.com',
      last_name: 'x'.repeat(MAX_LENGTH.standard + 1),
      'custom_fields.bio': 'y'.repeat(MAX_LENGTH.customValue + 1),
    });

    expect(problems.map((p) => p.field)).toEqual(['last_name', 'custom_fields.bio']);
    expect(problems[0]?.reason).toContain(`limit is ${MAX_LENGTH.standard}`);
  });

  it('refuses a custom field without a name, and more custom fields than SmartLead takes', () => {
    const many = Object.fromEntries(
      Array.from({ length: MAX_CUSTOM_FIELDS + 1 }, (_, i) => [`custom_fields.f${i}`, 'v']),
    );

    expect(checkLead({ email: 'ann@acme.com', 'custom_fields.': 'v' })[0]?.field).toBe('custom_fields.');
    expect(checkLead({ email: 'ann@acme.com', ...many })).toEqual([
      { field: 'custom_fields', reason: expect.stringContaining(`at most ${MAX_CUSTOM_FIELDS}`) },
    ]);
  });

  it('builds the API lead: custom fields nested, blank values left out', () => {
    const lead = toSmartLeadLead({
      row: 1,
      email: ' ann@acme.com ',
      fields: { email: 'ann@acme.com', first_name: 'Ann', last_name: '', 'custom_fields.job_title': 'CEO' },
    });

    expect(lead).toEqual({ email: 'ann@acme.com', first_name: 'Ann', custom_fields: { job_title: 'CEO' } });
  });
});
