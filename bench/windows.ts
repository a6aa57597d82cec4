import { spentQuota, type RequestRecord } from '../src/simulation/request-log.js';

/** Samples per window span: fine enough that a window's few free milliseconds (its margin) show in the mean. */
const STARTS_PER_SPAN = 20;

/**
 * What the vendor admitted in sliding windows of `spanMs` that lie inside the run (from the first admitted request
 * to the last), sampled at twenty starts per span: the mean is the sustained rate, the peak what a vendor would have
 * counted at worst. `weight` is what a request counts for (by default 1, a call; or the rows it stored). Taken from
 * the simulator's own record, not from what the client believes it sent. A run shorter than one span has no window
 * inside it: its mean is 0 and `windows` says so.
 */
export function slidingUsage(
  records: readonly RequestRecord[],
  spanMs: number,
  weight: (record: RequestRecord) => number = () => 1,
): { mean: number; peak: number; windows: number } {
  const admitted = records.filter(spentQuota);
  if (admitted.length === 0) return { mean: 0, peak: 0, windows: 0 };
  const first = admitted[0]!.at;
  const last = admitted.at(-1)!.at;
  const sumFrom = (start: number) =>
    admitted.reduce((sum, r) => (r.at >= start && r.at < start + spanMs ? sum + weight(r) : sum), 0);
  const sums: number[] = [];
  for (let start = first; start + spanMs <= last; start += spanMs / STARTS_PER_SPAN) sums.push(sumFrom(start));
  return {
    mean: sums.length > 0 ? sums.reduce((a, b) => a + b, 0) / sums.length : 0,
    peak: Math.max(...admitted.map((r) => sumFrom(r.at))),
    windows: sums.length,
  };
}

/**
 * How much of a window's allowance a run used, from the calls the vendor admitted: each call after the first `limit`
 * had to wait for room, landing at least `seconds` after the call `limit` places before it. The mean of those distances
 * is the time the run took per window's worth of calls, and `seconds` over it the share of the plan it reached (at
 * the ceiling, span over span plus margin). Unlike a mean over the windows inside a run, no edge weighs on it: the
 * first window's free burst and the last one's early end count like any other, so 6 windows measure what 60 do.
 * Undefined when the run never had to wait (no more than `limit` calls).
 */
export function shareOfWindow(
  records: readonly RequestRecord[],
  window: { limit: number; seconds: number },
  counts: (record: RequestRecord) => boolean = spentQuota,
): { share: number; gaps: number } | undefined {
  const times = records.filter(counts).map((r) => r.at);
  const gaps = times.length - window.limit;
  if (gaps <= 0) return undefined;
  let total = 0;
  for (let i = window.limit; i < times.length; i += 1) total += times[i]! - times[i - window.limit]!;
  return { share: (window.seconds * 1000) / (total / gaps), gaps };
}
