// Workflow-safe: pure arithmetic.

/**
 * Temporal's cost is per chunk (an activity: scheduled, started, completed, a workflow task each), a vendor's per
 * call. Below this many calls per second a chunk is one call; above it a chunk carries several, so a lane costs the
 * workflow and the server at most about this many chunks a second, whatever the plan's ceiling.
 */
export const CHUNKS_PER_SECOND = 10;

/** The vendor calls one chunk of a lane carries at this rate (calls per second, the sync's share applied). */
export function callsPerChunk(callsPerSecond: number): number {
  return Math.max(1, Math.floor(callsPerSecond / CHUNKS_PER_SECOND));
}
