import { describe, expect, it } from 'vitest';
import { LEADSQUARED_ACCOUNT, SMARTLEAD_ACCOUNT, parsedAccount } from '../helpers/accounts.js';

const ACCOUNTS = {
  leads: { ...LEADSQUARED_ACCOUNT, plan: 'enterprise' },
  outreach: { ...SMARTLEAD_ACCOUNT, plan: 'pro' },
};

function marginOf(name: keyof typeof ACCOUNTS, pacing?: unknown): number | undefined {
  return parsedAccount(name, { ...ACCOUNTS[name], ...(pacing === undefined ? {} : { pacing }) }).pacing.marginMs;
}

describe('the pacing margin of an account', () => {
  it("is the vendor's when the account sets none: 200 ms for LeadSquared, 300 ms for SmartLead", () => {
    expect(marginOf('leads')).toBe(200);
    expect(marginOf('outreach')).toBe(300);
  });

  it("is the vendor's when the pacing section leaves it out", () => {
    expect(marginOf('leads', {})).toBe(200);
  });

  it('is the one the account sets', () => {
    expect(marginOf('leads', { marginMs: 300 })).toBe(300);
    expect(marginOf('outreach', { marginMs: 0 })).toBe(0);
  });
});
