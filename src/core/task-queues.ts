// Workflow-safe: names only.
import type { LaneName, VendorName } from './plans.js';

/** The task queue of workflows, the account governors and the control activities (prepare, rejects report). */
export const WORKFLOW_TASK_QUEUE = 'leadsync';

/**
 * One task queue per (vendor, account, lane): its maxTaskQueueActivitiesPerSecond (laneQueueRate) is a backstop the
 * server enforces across every worker polling it; the account governor paces the calls.
 */
export function laneTaskQueue(vendor: VendorName, account: string, lane: LaneName): string {
  return `leadsync.${vendor}.${account}.${lane}`;
}
