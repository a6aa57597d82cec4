import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/accounts.js';
import type { Plan } from '../../src/core/plans.js';
import { findPlan } from '../../src/core/plans.js';
import { recordLanes } from '../../src/core/record-lanes.js';
import { LEADSQUARED_PLANS } from '../../src/vendors/leadsquared/plans.js';

const window = { limit: 100, seconds: 1 };
const customLanes = {
  general: { windows: [window], rowsPerCall: 1 },
  bulk: { windows: [window], rowsPerCall: 50, alsoSpends: ['general' as const] },
};

/** The plan of an account configured as `custom` with these lanes, as the config loader makes it. */
function customPlan(lanes: typeof customLanes): Plan {
  const account = {
    vendor: 'leadsquared',
    plan: 'custom',
    lanes,
    baseUrl: 'https://api-in21.leadsquared.com/v2/',
    credentials: { accessKeyEnv: 'ACME_ACCESS_KEY', secretKeyEnv: 'ACME_SECRET_KEY' },
  };
  return parseConfig({ accounts: { acme: account } }, 'leadsync.yaml').accounts.acme!.effectivePlan;
}

describe('the rows a LeadSquared bulk call carries, by kind of record', () => {
  it('is 50 leads and 25 activities on a published plan', () => {
    const plan = findPlan(LEADSQUARED_PLANS, 'enterprise')!;

    expect(recordLanes(plan, 'leads').bulk?.rowsPerCall).toBe(50);
    expect(recordLanes(plan, 'activities').bulk?.rowsPerCall).toBe(25);
  });

  it('keeps the endpoint’s 25 activities on a custom plan whose bulk lane takes 50 leads', () => {
    const plan = customPlan(customLanes);

    expect(recordLanes(plan, 'leads').bulk?.rowsPerCall).toBe(50);
    expect(recordLanes(plan, 'activities').bulk?.rowsPerCall).toBe(25);
  });

  it('keeps a custom bulk lane smaller than 25 at its own size for activities', () => {
    const lanes = { ...customLanes, bulk: { ...customLanes.bulk, rowsPerCall: 10 } };
    const plan = customPlan(lanes);

    expect(recordLanes(plan, 'activities').bulk?.rowsPerCall).toBe(10);
  });
});
