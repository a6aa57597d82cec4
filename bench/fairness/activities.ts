import { Context } from '@temporalio/activity';

/** One activity start: its fairness key as the server handed it over, and how long the task sat in the queue. */
export interface Dispatch {
  key: string;
  startedMs: number;
  queuedMs: number;
}

/** Filled by the worker in the measuring process itself, read when the measurement ends. */
export const dispatches: Dispatch[] = [];

/** Stamped where the activity starts running: the moment a vendor call would leave the worker. */
export async function recordDispatch(): Promise<void> {
  const { priority, currentAttemptScheduledTimestampMs } = Context.current().info;
  const now = Date.now();
  dispatches.push({
    key: priority?.fairnessKey ?? '',
    startedMs: now,
    queuedMs: now - currentAttemptScheduledTimestampMs,
  });
}
