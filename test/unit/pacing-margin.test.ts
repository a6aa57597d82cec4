import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/accounts.js';

const ACCOUNTS = {
  leads: {
    vendor: 'leadsquared',
    plan: 'enterprise',
    baseUrl: 'https://api-us11.leadsquared.com/v2/',
    credentials: { accessKeyEnv: 'LSQ_ACCESS', secretKeyEnv: 'LSQ_SECRET' },
  },
  outreach: {
    vendor: 'smartlead',
    plan: 'pro',
    baseUrl: 'https://server.smartlead.ai/api/v1/',
    credentials: { apiKeyEnv: 'SMARTLEAD_KEY' },
  },
};

function marginOf(name: keyof typeof ACCOUNTS, pacing?: unknown): number | undefined {
  const account = { ...ACCOUNTS[name], ...(pacing === undefined ? {} : { pacing }) };
  return parseConfig({ accounts: { [name]: account } }, '/etc/leadsync.yaml').accounts[name]?.pacing.marginMs;
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
