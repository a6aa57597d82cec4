// Workflow-safe: names, zod and arithmetic only.
import { z } from 'zod';
import { laneQueueRate, type LaneName, type VendorName, type Window } from './plans.js';

/** The task queue of workflows, the account governors and the control activities (prepare, rejects report). */
export const WORKFLOW_TASK_QUEUE = 'leadsync';

/**
 * Where chunks run: `per-account`, a queue per (vendor, account, lane) whose rate limit is the lane's backstop; or
 * `shared`, one queue per lane kind for every account, each chunk with its lane's fairness key, so that a worker's
 * Workers and polls do not grow with the accounts (docs/scale-fairness.md).
 */
export const TaskQueueModeSchema = z.enum(['per-account', 'shared']);
export type TaskQueueMode = z.infer<typeof TaskQueueModeSchema>;

/**
 * One task queue per (vendor, account, lane): its maxTaskQueueActivitiesPerSecond (laneQueueRate) is a backstop the
 * server enforces across every worker polling it; the account governor paces the calls.
 */
export function laneTaskQueue(vendor: VendorName, account: string, lane: LaneName): string {
  return `leadsync.${vendor}.${account}.${lane}`;
}

/** The queue every account's chunks of one lane kind share, named after the workflow queue so deployments stay apart. */
export function sharedLaneTaskQueue(workflowTaskQueue: string, lane: LaneName): string {
  return `${workflowTaskQueue}-lane-${lane}`;
}

/**
 * The per-fairness-key rate limit a shared queue is given when the per-key backstop is on: each task's weight scales
 * it, so a weight of laneQueueRate makes every (account, lane) its own backstop, with no per-key configuration.
 */
export const FAIRNESS_KEY_RATE_LIMIT_DEFAULT = 1;

/** Priority on a shared queue: a key per (vendor, account, lane), weighted by the lane's backstop rate. */
export interface LanePriority {
  fairnessKey: string;
  fairnessWeight: number;
}

/** The server takes fairness keys of at most 64 bytes. */
const FAIRNESS_KEY_BYTES = 64;

export function lanePriority(
  vendor: VendorName,
  account: string,
  lane: LaneName,
  windows: readonly Window[],
): LanePriority {
  return {
    fairnessKey: fairnessKey(vendor, account, lane),
    fairnessWeight: laneQueueRate(windows) / FAIRNESS_KEY_RATE_LIMIT_DEFAULT,
  };
}

/**
 * `<vendor>/<account>/<lane>`; an account name too long for that keeps its head and a hash of the whole name, so two
 * accounts never share a key by their first characters. Names are ASCII (the config's pattern): a character a byte.
 */
function fairnessKey(vendor: VendorName, account: string, lane: LaneName): string {
  const key = `${vendor}/${account}/${lane}`;
  if (key.length <= FAIRNESS_KEY_BYTES) return key;
  const hash = `~${fnv1a(account)}`;
  const head = account.slice(0, FAIRNESS_KEY_BYTES - key.length + account.length - hash.length);
  return `${vendor}/${head}${hash}/${lane}`;
}

/** FNV-1a, 32 bits, in hex: deterministic and dependency-free, as workflow-safe code must be. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(16).padStart(8, '0');
}
