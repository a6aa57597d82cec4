import { describe, expect, it } from 'vitest';
import { formatActivityDateTime } from '../../sales-activities.js';
import { checkLead, leadAttributes } from '../../fields.js';
import { ProspectIdCache } from '../../prospect-cache.js';

describe('LeadSquared lead shape', () => {
  it('sends the email, the non-empty fields and SearchBy EmailAddress', () => {
    const attributes = leadAttributes({
      row: 1,
      email: 'ada@example.com',
      fields: { EmailAddress: 'ada@example.com', FirstName: 'Ada', Phone: '', mx_Plan: 'pro' },
    });

    expect(attributes).toEqual([
      { Attribute: 'EmailAddress', Value: 'ada@example.com' },
      { Attribute: 'FirstName', Value: 'Ada' },
      { Attribute: 'mx_Plan', Value: 'pro' },
      { Attribute: 'SearchBy', Value: 'EmailAddress' },
    ]);
  });
});

describe('checkLead', () => {
  it('accepts standard and custom fields within their lengths', () => {
    expect(
      checkLead({ EmailAddress: 'ada@example.com', FirstName: 'Ada', Notes: 'n'.repeat(2000), mx_Score_2: '7' }),
    ).toEqual([]);
  });

  it.each([
    [{ FirstName: 'Ada' }, 'EmailAddress', 'is required'],
    [{ EmailAddress: 'not-an-email' }, 'EmailAddress', 'not a valid email'],
    [{ EmailAddress: `${'a'.repeat(95)}@x.com` }, 'EmailAddress', 'over the 100 allowed'],
    [{ EmailAddress: 'ada@example.com', Nickname: 'A' }, 'Nickname', 'not a LeadSquared lead field'],
    [{ EmailAddress: 'ada@example.com', 'mx_bad-name': 'A' }, 'mx_bad-name', 'not a LeadSquared lead field'],
    [{ EmailAddress: 'ada@example.com', Company: 'c'.repeat(201) }, 'Company', 'over the 200 allowed'],
    [{ EmailAddress: 'ada@example.com', Notes: 'n'.repeat(2001) }, 'Notes', 'over the 2000 allowed'],
  ])('names the field of each problem (%o)', (fields, field, reason) => {
    const problems = checkLead(fields as Record<string, string>);

    expect(problems).toHaveLength(1);
    expect(problems[0]?.field).toBe(field);
    expect(problems[0]?.reason).toContain(reason);
  });
});

describe('ProspectIdCache', () => {
  it('looks emails up case-insensitively and drops the least recently used beyond its capacity', () => {
    const cache = new ProspectIdCache(2);
    cache.set('A@x.com', 'a');
    cache.set('b@x.com', 'b');
    expect(cache.get('a@X.com')).toBe('a');

    cache.set('c@x.com', 'c');

    expect(cache.get('b@x.com')).toBeUndefined();
    expect(cache.get('a@x.com')).toBe('a');
    expect(cache.size).toBe(2);
  });
});

describe('formatActivityDateTime', () => {
  it('writes UTC as YYYY-MM-DD HH:MM:SS', () => {
    expect(formatActivityDateTime(new Date('2024-03-05T07:08:09.999+02:00'))).toBe('2024-03-05 05:08:09');
  });
});
