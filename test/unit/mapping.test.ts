import { describe, expect, it } from 'vitest';
import { applyMapping, checkMapping } from '../../src/core/mapping.js';

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
