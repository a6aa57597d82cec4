import { spentQuota, type RequestRecord } from '../src/simulation/request-log.js';

/**
 * How much of a window's allowance a run used, from the calls the vendor admitted: each call after the first `limit`
 * had to wait for room, landing at least `seconds` after the call `limit` places before it. The mean of those
 * distances is the time the run took per window's worth of calls, and `seconds` over it the share of the plan it
 * reached (at the ceiling, span over span plus margin). Unlike a mean over the windows inside a run (the tables'
 * figures), no edge weighs on it: the first window's free burst and the last one's early end count like any other
 * window, so a run of 6 windows reads the steady state. Undefined when no call had to wait (`limit` calls or fewer).
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
