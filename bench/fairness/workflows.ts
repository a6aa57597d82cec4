import { proxyActivities, sleep } from '@temporalio/workflow';
import type * as activities from './activities.js';

export interface FairnessKeyLoad {
  fairnessKey: string;
  fairnessWeight: number;
}

function recorder(activityQueue: string, load: FairnessKeyLoad) {
  return proxyActivities<typeof activities>({
    taskQueue: activityQueue,
    // Queued activities wait for the per-key limit, however long; only a running one is bounded.
    startToCloseTimeout: '1 minute',
    retry: { maximumAttempts: 1 },
    priority: load,
  }).recordDispatch;
}

/** Schedules `count` activities of one fairness key in one workflow task: a backlog only the limiter releases. */
export async function fairnessBacklog(activityQueue: string, load: FairnessKeyLoad, count: number): Promise<void> {
  const recordDispatch = recorder(activityQueue, load);
  await Promise.all(Array.from({ length: count }, () => recordDispatch()));
}

/** One activity at a time, `everyMs` apart: a key far below its limit, whose queue time shows any blocking. */
export async function fairnessProbe(
  activityQueue: string,
  load: FairnessKeyLoad,
  count: number,
  everyMs: number,
): Promise<void> {
  const recordDispatch = recorder(activityQueue, load);
  for (let i = 0; i < count; i++) {
    await recordDispatch();
    await sleep(everyMs);
  }
}
