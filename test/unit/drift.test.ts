import { describe, expect, it } from 'vitest';
import { compareLead } from '../../src/core/drift.js';

const EMAIL = 'EmailAddress';

describe('comparing a source lead with the vendor copy', () => {
  it('finds no drift when the vendor holds what the source says, whatever it holds besides', () => {
    const source = { EmailAddress: 'ada@example.com', FirstName: 'Ada' };
    const vendor = { EmailAddress: 'ada@example.com', FirstName: 'Ada', ProspectID: 'p-1', Score: '10' };

    expect(compareLead(source, vendor, EMAIL)).toBeUndefined();
  });

  it('reports a lead the vendor does not hold as missing', () => {
    expect(compareLead({ EmailAddress: 'ada@example.com' }, undefined, EMAIL)).toEqual({ kind: 'missing' });
  });

  it('names each field whose value differs, with both values as they are', () => {
    const source = { EmailAddress: 'ada@example.com', FirstName: 'Ada', LastName: 'Lovelace', Company: 'AE' };
    const vendor = { EmailAddress: 'ada@example.com', FirstName: 'Ada', LastName: 'Byron' };

    expect(compareLead(source, vendor, EMAIL)).toEqual({
      kind: 'differs',
      fields: [
        { field: 'LastName', source: 'Lovelace', vendor: 'Byron' },
        { field: 'Company', source: 'AE', vendor: '' },
      ],
    });
  });

  it('compares values trimmed and Unicode-normalised, and the email in any case', () => {
    const source = { EmailAddress: ' Ada@Example.com', City: 'Zu\u0308rich ' };
    const vendor = { EmailAddress: 'ada@example.com', City: 'Z\u00fcrich' };

    expect(compareLead(source, vendor, EMAIL)).toBeUndefined();
  });

  it('keeps case in fields other than the email', () => {
    const source = { EmailAddress: 'a@example.com', LastName: 'McCoy' };
    const vendor = { EmailAddress: 'a@example.com', LastName: 'Mccoy' };

    expect(compareLead(source, vendor, EMAIL)).toEqual({
      kind: 'differs',
      fields: [{ field: 'LastName', source: 'McCoy', vendor: 'Mccoy' }],
    });
  });

  it('never reports a blank source value: a sync does not send it, so the vendor keeps its own', () => {
    const source = { EmailAddress: 'ada@example.com', Phone: '  ' };
    const vendor = { EmailAddress: 'ada@example.com', Phone: '+44 20 7946 0000' };

    expect(compareLead(source, vendor, EMAIL)).toBeUndefined();
  });
});
