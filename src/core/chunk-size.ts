// Workflow-safe: pure arithmetic.

/**
 * How much of its lane's allowance a chunk carries, by when its sync started (the sync workflow's patches: a history
 * replays with the chunks it ran with).
 * - `long`: LONG_CHUNK_SECONDS. Temporal bills per action (an activity started, a recorded heartbeat, a governor
 *   update), a vendor per call: a chunk of three LeadSquared windows costs one activity where three cost three, and
 *   ends within the heartbeat period, so it records none.
 * - `window`: a window's worth (CHUNK_SECONDS, LeadSquared Enterprise general: 24 calls).
 * - `tenth`: a tenth of a second's calls, as the first syncs ran.
 */
export type ChunkSpan = 'long' | 'window' | 'tenth';

export const LONG_CHUNK_SECONDS = 15;
export const CHUNK_SECONDS = 5;

/**
 * Bounds what one chunk holds in memory and sends again on a retry, however fast the plan: a long chunk of LeadSquared
 * Enterprise's general lane (5 calls a second) fits.
 */
export const MAX_CALLS_PER_LONG_CHUNK = 75;
export const MAX_CALLS_PER_CHUNK = 25;

/**
 * The vendor calls one chunk of a lane carries at this rate (calls per second, the sync's share applied). The epsilon
 * keeps 2.8 calls a second (LeadSquared Standard's general lane) at 14 calls a window, not 13.
 */
export function callsPerChunk(callsPerSecond: number, span: ChunkSpan = 'long'): number {
  if (span === 'tenth') return Math.max(1, Math.floor(callsPerSecond / 10));
  const [seconds, most] =
    span === 'long' ? [LONG_CHUNK_SECONDS, MAX_CALLS_PER_LONG_CHUNK] : [CHUNK_SECONDS, MAX_CALLS_PER_CHUNK];
  return Math.min(most, Math.max(1, Math.floor(callsPerSecond * seconds + 1e-9)));
}
