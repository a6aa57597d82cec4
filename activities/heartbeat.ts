import { Context } from '@temporalio/activity';

const HEARTBEAT_EVERY_MS = 5_000;

/**
 * Heartbeats while `work` runs, so the server notices a dead worker within the heartbeat timeout rather than the
 * start-to-close timeout, and so a cancelled sync reaches the activity's cancellation signal. The first comes after
 * one period, not at the start: the heartbeat timeout runs from the start anyway, and each recorded heartbeat is a
 * billed Temporal action, which a chunk done within the period need not spend.
 */
export async function withHeartbeats<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const context = Context.current();
  const timer = setInterval(() => context.heartbeat(), HEARTBEAT_EVERY_MS);
  try {
    return await work(context.cancellationSignal);
  } finally {
    clearInterval(timer);
  }
}
