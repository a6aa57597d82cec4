// Workflow-safe: zod and plain functions only. A sync's priority, as the governor grants slots by it and as
// Temporal's task queues dispatch its chunks by it.
import { z } from 'zod';

/** Which syncs on an account go first: the governor grants slots by priority, then in order of arrival. */
export const PrioritySchema = z.enum(['high', 'normal', 'low']);
export type Priority = z.infer<typeof PrioritySchema>;

/**
 * The task-queue priority key of a sync's chunk activities (server default: 1 to 5, 3 when unset). Normal leaves it
 * unset, so a normal sync's chunks are scheduled exactly as before priorities.
 */
export function priorityKeyOf(priority: Priority): number | undefined {
  return { high: 1, normal: undefined, low: 5 }[priority];
}
