import { randomUUID } from 'node:crypto';
import type { Client, WorkflowHandle, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { WORKFLOW_TASK_QUEUE } from '../core/task-queues.js';
import { ConfigError, formatZodIssues } from '../core/errors.js';
import { SyncInputSchema, type SyncInput, type SyncProgress, type SyncResult } from '../core/contract.js';
import { describeSource } from '../core/source-registry.js';
import { priorityKeyOf } from '../core/priority.js';
import type { leadSync } from '../../workflows/sync.js';
import { pauseUpdate, progressQuery, resumeUpdate, throttleUpdate } from '../core/sync-messages.js';

/**
 * The typed way for a program to run syncs with its own @temporalio/client: start one, read its progress, control
 * it. The CLI is built on these; `temporal workflow start --type leadSync` reaches the same workflow.
 */
export type SyncHandle = WorkflowHandle<typeof leadSync>;

/**
 * A sync just started: its run id (firstExecutionRunId) is the one its rejects are kept under, apart from any other
 * sync that uses the same workflow id.
 */
export type StartedSync = WorkflowHandleWithFirstExecutionRunId<typeof leadSync>;

export interface StartSyncOptions {
  workflowId?: string;
  taskQueue?: string;
}

/** Validates the input here, where the caller can fix it, then starts the sync workflow. */
export async function startSync(
  client: Client,
  input: SyncInput,
  options: StartSyncOptions = {},
): Promise<StartedSync> {
  const parsed = SyncInputSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(`invalid sync input:\n${formatZodIssues(parsed.error)}`);
  const priorityKey = priorityKeyOf(parsed.data.priority);
  return client.workflow.start<typeof leadSync>('leadSync', {
    taskQueue: options.taskQueue ?? WORKFLOW_TASK_QUEUE,
    workflowId: options.workflowId ?? newSyncId(parsed.data.account),
    // Its workflow tasks and the activities that prepare and scan it go ahead too, or behind (they inherit it).
    ...(priorityKey !== undefined ? { priority: { priorityKey } } : {}),
    args: [parsed.data],
    staticSummary: `Sync ${describeSource(parsed.data.source).label} into account ${parsed.data.account}`,
  });
}

export function newSyncId(account: string): string {
  return `leadsync-sync-${account}-${randomUUID().slice(0, 8)}`;
}

export function syncHandle(client: Client, workflowId: string): SyncHandle {
  return client.workflow.getHandle<typeof leadSync>(workflowId);
}

export function syncProgress(handle: SyncHandle): Promise<SyncProgress> {
  return handle.query(progressQuery);
}

export function syncResult(handle: SyncHandle): Promise<SyncResult> {
  return handle.result();
}

export function pauseSync(handle: SyncHandle): Promise<SyncProgress> {
  return handle.executeUpdate(pauseUpdate);
}

export function resumeSync(handle: SyncHandle): Promise<SyncProgress> {
  return handle.executeUpdate(resumeUpdate);
}

/** Lets the sync use only `share` (0..1] of the account's plan, from its next chunk on. */
export function throttleSync(handle: SyncHandle, share: number): Promise<SyncProgress> {
  return handle.executeUpdate(throttleUpdate, { args: [share] });
}

/** Chunks in flight finish, no new one starts, the rejects report is written, and the result says `cancelled`. */
export async function cancelSync(handle: SyncHandle): Promise<void> {
  await handle.cancel();
}
