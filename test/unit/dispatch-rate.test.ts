import { describe, expect, it } from 'vitest';
import { TASK_QUEUE_PARTITIONS, dispatchRate, laneQueueRate, sustainedRate } from '../../src/core/plans.js';
import { LEADSQUARED_PLANS } from '../../src/vendors/leadsquared/plans.js';
import { SMARTLEAD_PLANS } from '../../src/vendors/smartlead/plans.js';

describe('task-queue dispatch rate', () => {
  it("is SmartLead's per-second ceiling, not its hourly rate: the governor keeps the minute and the hour", () => {
    const standard = SMARTLEAD_PLANS.standard!.lanes.general!.windows;

    expect(dispatchRate(standard)).toBe(10);
    expect(sustainedRate(standard)).toBeCloseTo(1000 / 3600);
  });

  it("is a LeadSquared lane's one window, as before", () => {
    const enterprise = LEADSQUARED_PLANS.enterprise!.lanes;

    expect(dispatchRate(enterprise.general!.windows)).toBe(5);
    expect(dispatchRate(enterprise.bulk!.windows)).toBe(0.2);
  });
});

describe('lane queue rate', () => {
  it('gives each of the default 4 partitions the whole ceiling, so a 1-call-per-5-s lane never waits on a partition', () => {
    const bulk = LEADSQUARED_PLANS.enterprise!.lanes.bulk!.windows;

    expect(laneQueueRate(bulk) / TASK_QUEUE_PARTITIONS).toBe(dispatchRate(bulk));
  });

  it('scales with the partitions a cluster runs', () => {
    const general = LEADSQUARED_PLANS.enterprise!.lanes.general!.windows;

    expect(laneQueueRate(general, 8)).toBe(40);
  });
});
