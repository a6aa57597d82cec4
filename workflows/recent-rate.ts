/** How far back the recent rate looks: a minute holds a dozen of LeadSquared's windows and one of SmartLead's. */
const RECENT_MS = 60_000;
/** Less than this between the first and the last count says nothing yet: one window's calls land at once. */
const MIN_SPAN_MS = 5_000;
/** Counts this close after the first are the same window's calls, ended together (a chunk per lane, or more). */
const BURST_MS = 2_000;

/**
 * A sync's rate over its last minute, from the row counts at each chunk's end. An average since the start reads far
 * above the plan early on ("116.0 of 14.8 rows/s"): a sync's first windows start empty, and their calls all land in
 * their first second. Measured from the first counts in the minute (those ended together with the first), the rows
 * of those counts are not in the rate, and the time since the last count is: a sync that stalls shows its rate fall.
 */
export class RecentRate {
  private counts: { at: number; read: number }[] = [];

  record(at: number, read: number): void {
    this.counts.push({ at, read });
    const from = this.counts.findIndex((count) => count.at >= at - RECENT_MS);
    if (from > 0) this.counts.splice(0, from);
  }

  /** Rows per second over the last minute, or undefined while the counts span too little to say. */
  rowsPerSecond(now: number): number | undefined {
    const first = this.counts[0];
    const last = this.counts.at(-1);
    if (!first || !last || last.at - first.at < MIN_SPAN_MS) return undefined;
    const base = this.counts.findLast((count) => count.at <= first.at + BURST_MS)!;
    return (last.read - base.read) / ((now - base.at) / 1000);
  }
}
