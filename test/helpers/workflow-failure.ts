import { ActivityFailure, WorkflowFailedError } from '@temporalio/client';
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
