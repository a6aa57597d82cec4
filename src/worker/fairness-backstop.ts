import type { Connection } from '@temporalio/client';
import { FAIRNESS_KEY_RATE_LIMIT_DEFAULT } from '../core/task-queues.js';

/** TASK_QUEUE_TYPE_ACTIVITY (@temporalio/proto, not a dependency of its own). */
const ACTIVITY = 2;

/**
 * Sets a shared queue's per-fairness-key rate limit: every chunk's weight (its lane's backstop rate) scales it, so the
 * server holds each (account, lane) to 4 times its ceiling, as a per-account queue's own limit does. The API takes it
 * on any server from 1.29; only one running `matching.enableFairness` enforces it (docs/scale-fairness.md).
 */
export async function setFairnessKeyBackstop(
  connection: Connection,
  namespace: string,
  taskQueue: string,
  identity: string,
): Promise<void> {
  await connection.workflowService.updateTaskQueueConfig({
    namespace,
    identity,
    taskQueue,
    taskQueueType: ACTIVITY,
    updateFairnessKeyRateLimitDefault: {
      rateLimit: { requestsPerSecond: FAIRNESS_KEY_RATE_LIMIT_DEFAULT },
      reason: "leadsync worker.fairnessKeyBackstop: each key's weight is its lane's backstop rate",
    },
  });
}

/**
 * The per-fairness-key rate limit the server holds for a shared queue (set by this worker, another, or an operator),
 * in calls per second at weight 1; undefined when none is set.
 */
export async function fairnessKeyRateLimit(
  connection: Connection,
  namespace: string,
  taskQueue: string,
): Promise<number | undefined> {
  const described = await connection.workflowService.describeTaskQueue({
    namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: ACTIVITY,
    reportConfig: true,
  });
  return described.config?.fairnessKeysRateLimitDefault?.rateLimit?.requestsPerSecond ?? undefined;
}
