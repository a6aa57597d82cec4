import { ActivityFailure, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { expect } from 'vitest';

export interface WorkflowFailure {
  /** The innermost cause's type (ConfigError, AuthError, ...): what `leadsync sync` prints. */
  type: string | undefined;
  message: string;
  /** The retry state of the activity that failed the workflow, when one did. */
  retryState: ActivityFailure['retryState'] | undefined;
}

/** Waits for a workflow that must fail, and reads its innermost cause. */
export async function workflowFailure(result: Promise<unknown>): Promise<WorkflowFailure> {
  const error = await result.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(WorkflowFailedError);
  let cause = (error as WorkflowFailedError).cause as (Error & { type?: string; cause?: Error }) | undefined;
  const activity = cause instanceof ActivityFailure ? cause : undefined;
  while (cause?.cause) cause = cause.cause as typeof cause;
  return { type: cause?.type, message: cause?.message ?? '', retryState: activity?.retryState };
}

/**
 * The failure a running workflow's pending activity last retried after, once it has one: what a sync that waits (for
 * an account its worker's config lacks) says while it waits.
 */
export async function pendingFailure(
  handle: WorkflowHandle,
  timeoutMs = 30_000,
): Promise<{ activity: string | undefined; type: string | undefined; message: string; nonRetryable: boolean }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const description = await handle.describe();
    expect(description.status.name).toBe('RUNNING');
    const pending = description.raw.pendingActivities?.find((activity) => activity.lastFailure);
    if (pending?.lastFailure) {
      const info = pending.lastFailure.applicationFailureInfo;
      return {
        activity: pending.activityType?.name ?? undefined,
        type: info?.type ?? undefined,
        message: pending.lastFailure.message ?? '',
        nonRetryable: info?.nonRetryable === true,
      };
    }
    if (Date.now() > deadline) throw new Error(`no pending activity failed within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
