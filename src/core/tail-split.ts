// Workflow-safe: pure arithmetic.

/** A lane as the end of the source sees it: its rows per second, and the seconds of rows it already holds. */
export interface LaneBacklog {
  rowsPerSecond: number;
  queuedSeconds: number;
  /**
   * Rows one call carries. Given, a lane of many rows a call gets whole calls where that finishes sooner (see
   * `splitTail`); absent, rows are split as if they flowed one by one.
   */
  rowsPerCall?: number;
}

/**
 * The source's last `remaining` rows, split so that every lane finishes at the same time: each lane gets what fills
 * it from its own backlog up to a common finishing time T, found by bisection (rows(T) grows with T). A lane already
 * holding more than T gets none. Whole rows; what rounding leaves goes to the fastest lane.
 *
 * Rows go out a call at a time, though: a call of 8 rows on LeadSquared's bulk lane takes its window as 50 would,
 * and a sync whose last bulk call carried 8 rows waited a whole 5-second window for them while the general lane stood
 * idle. So where lanes say how many rows a call carries, a lane of more than one row a call gets a whole number of
 * calls, one fewer or one more than its split's, whichever finishes every lane sooner; the rows it gives up or takes
 * go to the lane of fewest rows a call.
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
  return wholeCalls(lanes, rows);
}

/** `rows` with every lane of many rows a call at a whole number of calls, where that finishes sooner. */
function wholeCalls(lanes: readonly LaneBacklog[], split: readonly number[]): number[] {
  const perCall = lanes.map((l) => l.rowsPerCall);
  if (perCall.some((n) => n === undefined)) return [...split];
  const finest = perCall.indexOf(Math.min(...(perCall as number[])));
  // When each lane is done, latest first: the sync's finish, then (where that ties) the other lanes', so that of two
  // splits finishing together the one whose calls are fuller, leaving the account more room, wins.
  const finish = (rows: readonly number[]) =>
    lanes
      .map((l, i) => {
        if (rows[i] === 0 || l.rowsPerSecond <= 0) return 0;
        const calls = Math.ceil(rows[i]! / perCall[i]!);
        return l.queuedSeconds + (calls * perCall[i]!) / l.rowsPerSecond;
      })
      .sort((a, b) => b - a);
  const sooner = (a: readonly number[], b: readonly number[]) => {
    const [x, y] = [finish(a), finish(b)];
    const at = x.findIndex((t, k) => t !== y[k]);
    return at >= 0 && x[at]! < y[at]!;
  };
  let rows = [...split];
  for (const [i, lane] of lanes.entries()) {
    const size = perCall[i]!;
    if (i === finest || size <= 1 || rows[i]! % size === 0) continue;
    const fewer = Math.floor(rows[i]! / size) * size;
    const options = [fewer, fewer + size].map((mine) => {
      const moved = rows[i]! - mine;
      const option = [...rows];
      option[i] = mine;
      option[finest] = option[finest]! + moved;
      return option;
    });
    // One more call takes rows from the finest lane: only as many as it has.
    const possible = options.filter((option) => option[finest]! >= 0 && lane.rowsPerSecond > 0);
    rows = possible.reduce((best, option) => (sooner(option, best) ? option : best), rows);
  }
  return rows;
}
