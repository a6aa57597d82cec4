import { Context } from '@temporalio/activity';

/** Where the activity has no heartbeat timeout: often enough that a cancellation reaches it within seconds. */
const HEARTBEAT_EVERY_MS = 5_000;

/**
 * Heartbeats while `work` runs, so the server notices a dead worker within the heartbeat timeout rather than the
 * start-to-close timeout, and so a cancelled sync reaches the activity's cancellation signal. Every 0.8 of the
 * heartbeat timeout, the most the SDK sends anyway (it throttles heartbeats to that period), and the first after one
 * period, not at the start: each recorded heartbeat is a billed Temporal action, which an activity done within the
 * period need not spend. A pause reaches a chunk sooner, by the process's pause watch (activities/pause-watch.ts).
 */
export async function withHeartbeats<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const context = Context.current();
  const timeoutMs = context.info.heartbeatTimeoutMs;
  const every = timeoutMs ? Math.max(1_000, 0.8 * timeoutMs) : HEARTBEAT_EVERY_MS;
  const timer = setInterval(() => context.heartbeat(), every);
  try {
    return await work(context.cancellationSignal);
  } finally {
    clearInterval(timer);
  }
}
