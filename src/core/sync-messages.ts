// The sync workflow's messages: what the client API, the CLI and the chunks send to a running sync.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import type { SyncProgress } from './contract.js';
import { MAX_MESSAGE_WAIT_MS, MESSAGE_CLOCK_SKEW_MS, readMessage } from './messages.js';
import { LaneNameSchema } from './plans.js';

export const progressQuery = defineQuery<SyncProgress>('progress');
export const pauseUpdate = defineUpdate<SyncProgress>('pause');
export const resumeUpdate = defineUpdate<SyncProgress>('resume');
export const throttleUpdate = defineUpdate<SyncProgress, [number]>('throttle');
/** Sent by a chunk the vendor refused for rate, so the sync can say what it is waiting for. */
export const BackoffSchema = z.object({ lane: LaneNameSchema, until: z.number().finite() }).strict();
export type Backoff = z.input<typeof BackoffSchema>;
export const backoffSignal = defineSignal<[Backoff]>('backoff');

/**
 * A backoff as the sync takes it, or undefined: a signal anyone can send, so one that does not read as a backoff, or
 * names a time no vendor's wait can reach (past, or further than the longest window), is dropped.
 */
export function readBackoff(raw: unknown, now: number): Backoff | undefined {
  const backoff = readMessage(BackoffSchema, raw);
  const possible =
    backoff && backoff.until >= now - MESSAGE_CLOCK_SKEW_MS && backoff.until <= now + MAX_MESSAGE_WAIT_MS;
  return possible ? backoff : undefined;
}
