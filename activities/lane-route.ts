import type { Info } from '@temporalio/activity';
import type { Account } from '../src/config/accounts.js';
import type { LaneName } from '../src/core/plans.js';
import { lanePriority, laneTaskQueue, sharedLaneTaskQueue, type LanePriority } from '../src/core/task-queues.js';
import type { ActivityDeps } from './context.js';

/** Where a chunk of one account's lane runs, and the priority it carries there, as this worker's config lays out. */
export interface LaneRoute {
  taskQueue: string;
  priority?: LanePriority;
}

/** The route prepare gives each lane of a sync, and the one a chunk must have come by: one reckoning for both. */
export function laneRoute(
  deps: Pick<ActivityDeps, 'config' | 'workflowTaskQueue'>,
  account: Account,
  lane: LaneName,
): LaneRoute {
  if (deps.config.worker.taskQueues === 'per-account') {
    return { taskQueue: laneTaskQueue(account.vendor, account.name, lane) };
  }
  const windows = account.effectivePlan.lanes[lane]?.windows ?? [];
  return {
    taskQueue: sharedLaneTaskQueue(deps.workflowTaskQueue, lane),
    priority: lanePriority(account.vendor, account.name, lane, windows),
  };
}

/**
 * Whether a chunk came by its lane's route: on its lane's queue, and, where the per-key backstop holds it, with its
 * lane's fairness key and no more than its weight (a weight is a ceiling there). Without the backstop the priority
 * only orders dispatch, and a sync prepared before a plan changed keeps its weight.
 */
export function cameByRoute(
  deps: Pick<ActivityDeps, 'config'>,
  route: LaneRoute,
  info: Pick<Info, 'taskQueue' | 'priority'>,
): boolean {
  if (info.taskQueue !== route.taskQueue) return false;
  if (!route.priority || !deps.config.worker.fairnessKeyBackstop) return true;
  // The server reads a weight left unset as 1, and keeps weights as 32-bit floats.
  return (
    info.priority?.fairnessKey === route.priority.fairnessKey &&
    (info.priority.fairnessWeight || 1) <= Math.fround(route.priority.fairnessWeight)
  );
}
