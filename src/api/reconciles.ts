import { randomUUID } from 'node:crypto';
import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { WORKFLOW_TASK_QUEUE } from '../core/task-queues.js';
import { ConfigError, formatZodIssues } from '../core/errors.js';
import { ReconcileInputSchema, type ReconcileInput } from '../core/reconcile.js';
import { describeSource } from '../core/source-registry.js';
import type { leadReconcile } from '../../workflows/reconcile.js';

export type StartedReconcile = WorkflowHandleWithFirstExecutionRunId<typeof leadReconcile>;

/** Validates the input here, where the caller can fix it, then starts the reconciliation workflow. */
export async function startReconcile(
  client: Client,
  input: ReconcileInput,
  options: { workflowId?: string; taskQueue?: string } = {},
): Promise<StartedReconcile> {
  const parsed = ReconcileInputSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(`invalid reconcile input:\n${formatZodIssues(parsed.error)}`);
  const { account, source } = parsed.data;
  return client.workflow.start<typeof leadReconcile>('leadReconcile', {
    taskQueue: options.taskQueue ?? WORKFLOW_TASK_QUEUE,
    workflowId: options.workflowId ?? `leadsync-reconcile-${account}-${randomUUID().slice(0, 8)}`,
    args: [parsed.data],
    staticSummary: `Reconcile account ${account} with ${describeSource(source).label}`,
  });
}
