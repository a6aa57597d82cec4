import { describe, expect, it } from 'vitest';
import {
  PLANS,
  TASK_QUEUE_PARTITIONS,
  dispatchRate,
  laneQueueRate,
  sustainedRate,
} from '../../src/core/plans.js';

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

describe('lane queue rate', () => {
  it('gives each of the default 4 partitions the whole ceiling, so a 1-call-per-5-s lane never waits on a partition', () => {
    const bulk = PLANS.leadsquared.enterprise!.lanes.bulk!.windows;

    expect(laneQueueRate(bulk) / TASK_QUEUE_PARTITIONS).toBe(dispatchRate(bulk));
  });

  it('scales with the partitions a cluster runs', () => {
    const general = PLANS.leadsquared.enterprise!.lanes.general!.windows;

    expect(laneQueueRate(general, 8)).toBe(40);
  });
});
