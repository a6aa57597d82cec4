// Workflow-safe: pure arithmetic.

/** A lane as the end of the source sees it: its rows per second, and the seconds of rows it already holds. */
export interface LaneBacklog {
  rowsPerSecond: number;
  queuedSeconds: number;
}

/**
 * The source's last `remaining` rows, split so that every lane finishes at the same time: each lane gets what fills
 * it from its own backlog up to a common finishing time T, found by bisection (rows(T) grows with T). A lane already
 * holding more than T gets none. Whole rows; what rounding leaves goes to the fastest lane.
 */
export function splitTail(lanes: readonly LaneBacklog[], remaining: number): number[] {
  const rowsBy = (t: number) => lanes.map((l) => Math.max(0, (t - l.queuedSeconds) * l.rowsPerSecond));
  const total = (t: number) => rowsBy(t).reduce((a, b) => a + b, 0);
  const rate = lanes.reduce((sum, l) => sum + l.rowsPerSecond, 0);
  if (rate <= 0 || remaining <= 0) return lanes.map(() => 0);
  let low = 0;
  let high = Math.max(...lanes.map((l) => l.queuedSeconds)) + remaining / rate;
  for (let i = 0; i < 60; i++) {
    const mid = (low + high) / 2;
    if (total(mid) < remaining) low = mid;
    else high = mid;
  }
  const rows = rowsBy(high).map((r) => Math.floor(r));
  const fastest = lanes.reduce((best, l, i) => (l.rowsPerSecond > lanes[best]!.rowsPerSecond ? i : best), 0);
  rows[fastest] = rows[fastest]! + remaining - rows.reduce((a, b) => a + b, 0);
  return rows;
}
