import { describe, expect, it } from 'vitest';
import { SyncInputSchema } from '../../src/core/contract.js';
import { formatZodIssues } from '../../src/core/errors.js';
import {
  applyMapping,
  checkMapping,
  MappingSchema,
  MAX_MAPPING_FIELDS,
  MAX_MAPPING_NAME_LENGTH,
  MAX_MAPPING_VALUE_LENGTH,
} from '../../src/core/mapping.js';

describe('mapping a row', () => {
  it("reads a column by own property only: a row without 'constructor' has no value for it", () => {
    // NDJSON rows need not share keys: one row's key can be a column another row lacks.
    const mapping = { EmailAddress: 'email', mx_Origin: 'constructor' };

    expect(applyMapping(mapping, { email: ' A@X.io ' }, 'EmailAddress')).toEqual({ EmailAddress: 'a@x.io' });
    expect(applyMapping(mapping, { email: 'a@x.io', constructor: 'web' }, 'EmailAddress')).toEqual({
      EmailAddress: 'a@x.io',
      mx_Origin: 'web',
    });
  });

  it('does not take a name of every object for the email field', () => {
    expect(() => checkMapping({ toString: 'email' }, ['email'], 'toString')).not.toThrow();
    expect(() => checkMapping({ FirstName: 'email' }, ['email'], 'constructor')).toThrow(/constructor is not mapped/);
  });
});

describe('the size of a mapping', () => {
  const issues = (mapping: unknown) => {
    const parsed = MappingSchema.safeParse(mapping);
    return parsed.success ? undefined : formatZodIssues(parsed.error);
  };

  it('refuses 50,000 fields in one issue, before any field is read', () => {
    const huge = Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`f${i}`, i % 2 ? `c${i}` : 7]));

    expect(issues(huge)).toBe(
      `  - (root): the mapping has 50000 fields, over the ${MAX_MAPPING_FIELDS} a mapping may have: map only the fields the sync writes`,
    );
  });

  it('takes as many fields and as long names as allowed', () => {
    const name = (i: number) => `${i}`.padEnd(MAX_MAPPING_NAME_LENGTH, 'x');
    const widest = Object.fromEntries(
      Array.from({ length: MAX_MAPPING_FIELDS }, (_, i) => [
        name(i),
        i % 2 ? name(i) : { value: 'v'.repeat(MAX_MAPPING_VALUE_LENGTH) },
      ]),
    );
    expect(MappingSchema.safeParse(widest).success).toBe(true);
  });

  it('names each field whose name, column, constant or transforms are over their cap', () => {
    const long = 'x'.repeat(MAX_MAPPING_NAME_LENGTH + 1);
    expect(
      issues({
        [long]: 'email',
        FirstName: long,
        LastName: { column: long },
        Source: { value: 'v'.repeat(MAX_MAPPING_VALUE_LENGTH + 1) },
        City: { column: 'city', transforms: ['trim', 'lower', 'upper', 'trim'] },
      })?.split('\n'),
    ).toEqual([
      `  - ${'x'.repeat(40)}…: the vendor field name is 201 characters, over the 200 allowed`,
      '  - FirstName: the column name is 201 characters, over the 200 allowed',
      '  - LastName.column: the column name is 201 characters, over the 200 allowed',
      '  - Source.value: the constant is 1001 characters, over the 1000 allowed',
      '  - City.transforms: 4 transforms, over the 3 allowed (trim, lower, upper)',
    ]);
  });

  it('refuses an oversized mapping in a sync input, naming the mapping', () => {
    const input = {
      account: 'acme',
      source: { kind: 'csv', path: 'leads.csv' },
      mapping: Object.fromEntries(Array.from({ length: MAX_MAPPING_FIELDS + 1 }, (_, i) => [`f${i}`, `c${i}`])),
    };
    const parsed = SyncInputSchema.safeParse(input);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([
      ['mapping', expect.stringMatching(/^the mapping has 501 fields, over the 500/)],
    ]);
  });
});
