import { describe, expect, it } from 'vitest';
import type { LaneRun } from '../../src/core/contract.js';
import { chunkPriority } from '../../workflows/chunk-priority.js';

const perAccount: LaneRun = {
  lane: 'general',
  taskQueue: 'leadsync.leadsquared.acme.general',
  rowsPerCall: 1,
  callsPerSecond: 4.8,
};
const shared: LaneRun = {
  ...perAccount,
  taskQueue: 'leadsync-lane-general',
  priority: { fairnessKey: 'leadsquared/acme/general', fairnessWeight: 20 },
};

describe("a chunk activity's task-queue priority", () => {
  it('puts a high sync ahead (key 1) and a low one behind (key 5), beside the fairness key of a shared queue', () => {
    expect(chunkPriority(perAccount, 'high')).toEqual({ priority: { priorityKey: 1 } });
    expect(chunkPriority(shared, 'low')).toEqual({
      priority: { fairnessKey: 'leadsquared/acme/general', fairnessWeight: 20, priorityKey: 5 },
    });
  });

  it('leaves a normal sync scheduled as before priorities: no key, the fairness key alone on a shared queue', () => {
    expect(chunkPriority(perAccount, 'normal')).toEqual({});
    expect(chunkPriority(shared, 'normal')).toEqual({ priority: shared.priority });
  });
});
