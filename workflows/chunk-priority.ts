import type { Priority as TaskPriority } from '@temporalio/common';
import type { LaneRun } from '../src/core/contract.js';
import { priorityKeyOf, type Priority } from '../src/core/priority.js';

/**
 * The task-queue priority a chunk activity is scheduled with: its lane's fairness key on a shared queue (from
 * prepare's result), and its sync's priority key, so a high sync's chunks go ahead of others waiting on the queue.
 * Neither, for a normal sync on a per-account queue: scheduled exactly as before priorities.
 */
export function chunkPriority(lane: LaneRun, priority: Priority): { priority?: TaskPriority } {
  const priorityKey = priorityKeyOf(priority);
  if (!lane.priority && priorityKey === undefined) return {};
  return { priority: { ...lane.priority, ...(priorityKey !== undefined ? { priorityKey } : {}) } };
}
