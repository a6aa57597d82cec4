import { describe, expect, it } from 'vitest';
import { PLANS, dispatchRate, sustainedRate } from '../../src/governance/plans.js';

describe('task-queue dispatch rate', () => {
  it("is SmartLead's per-second ceiling, not its hourly rate: the governor keeps the minute and the hour", () => {
    const standard = PLANS.smartlead.standard!.lanes.general!.windows;

    expect(dispatchRate(standard)).toBe(10);
    expect(sustainedRate(standard)).toBeCloseTo(1000 / 3600);
  });

  it("is a LeadSquared lane's one window, as before", () => {
    const enterprise = PLANS.leadsquared.enterprise!.lanes;

    expect(dispatchRate(enterprise.general!.windows)).toBe(5);
    expect(dispatchRate(enterprise.bulk!.windows)).toBe(0.2);
  });
});
