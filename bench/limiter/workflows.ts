import { proxyActivities } from '@temporalio/workflow';
import type * as activities from './activities.js';

/**
 * Schedules `count` activities in one workflow task, so they all reach the rate-limited queue at the same moment
 * and only the limiter decides when each starts. Returns each activity's start time (epoch ms).
 */
export async function limiterLoad(count: number, activityQueue: string): Promise<number[]> {
  const { recordStart } = proxyActivities<typeof activities>({
    taskQueue: activityQueue,
    // Queued activities wait for the limiter, however long; only running one is bounded.
    startToCloseTimeout: '1 minute',
    retry: { maximumAttempts: 1 },
  });
  return Promise.all(Array.from({ length: count }, () => recordStart()));
}
