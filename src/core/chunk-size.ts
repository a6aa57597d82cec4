// Workflow-safe: pure arithmetic.

/**
 * Temporal bills per action (an activity started, a governor update, a heartbeat), a vendor per call. A chunk
 * carries about this many seconds of its lane's calls, their slots granted in one governor update: a LeadSquared
 * lane's window's worth (Enterprise general: 24 calls), so a sync costs Temporal a few actions per window and lane
 * instead of a few per call.
 */
export const CHUNK_SECONDS = 5;

/** Bounds what one chunk holds in memory and sends again on a retry, however fast the plan. */
export const MAX_CALLS_PER_CHUNK = 25;

/**
 * The vendor calls one chunk of a lane carries at this rate (calls per second, the sync's share applied). The epsilon
 * keeps 2.8 calls a second (LeadSquared Standard's general lane) at 14 calls, not 13.
 */
export function callsPerChunk(callsPerSecond: number): number {
  return Math.min(MAX_CALLS_PER_CHUNK, Math.max(1, Math.floor(callsPerSecond * CHUNK_SECONDS + 1e-9)));
}

/**
 * Before chunks carried a window's worth: about ten chunks a second at most. Kept for syncs that started before, whose
 * histories must replay as they ran.
 */
export function callsPerChunkBeforeWindows(callsPerSecond: number): number {
  return Math.max(1, Math.floor(callsPerSecond / 10));
}
