import { LaneNameSchema, type LaneName, type Window } from '../../src/core/plans.js';
import { busiestWindow, type RequestRecord } from '../../src/simulation/request-log.js';

/**
 * The windows a vendor enforces on each lane, and the other lanes a call on it spends from too (a plan's `lanes` has
 * this shape: under the strict reading of LeadSquared's limits, a bulk call counts against the general lane).
 */
export type VendorLanes = Partial<Record<LaneName, { windows: readonly Window[]; alsoSpends?: readonly LaneName[] }>>;

/**
 * What a loaded machine may cost a pacer that keeps to its slots, in one test: a worker process held past the margin
 * between a call's slot and the vendor sends it into a window its slot had already left, where it is refused (one
 * request over the limit, one 429) and sent again at a later slot. Measured on the 2-core test machine, idle and with
 * one and two busy loops beside the tests (leadsquared-sync, smartlead-sync, multi-worker, 7 runs each): no window
 * over and no 429, the shared-key test aside. A pacer that does not wait for its slots went 86 to 235 requests over
 * and drew 344 to 1,415 429s; one that waits but paces to windows without the margin, 2 to 22 over and 2 to 80 429s.
 */
export const LOADED_MACHINE_TOLERANCE = { overLimit: 1, rateLimited: 2 } as const;

/** One window of one lane at its fullest, as the vendor saw it. */
export interface WindowCount extends Window {
  lane: LaneName;
  /** Requests in the busiest span, refused ones included. */
  worst: number;
  /** Of those, how many the simulator refused for rate. */
  refused: number;
  /** When the busiest span began, in ms after the first request of the log. */
  fromMs: number;
  /**
   * Each request of the busiest span when it went over: ms after the span began, `R` when refused, and the sender's
   * name, so a failure on a loaded CI machine shows whether one burst arrived late or many calls arrived refused.
   */
  arrivals?: string;
}

export interface VendorWindows {
  windows: WindowCount[];
  /** The most requests any window held beyond its limit: 0 when every window held. */
  over: number;
  rateLimited: number;
  requests: number;
  /** Every window's figures on one line, for an assertion's message and the test's log. */
  summary: string;
}

/**
 * Counts every request that reached the simulator, in every sliding window of every lane, whatever its answer. The
 * simulator refuses whatever is over a window, so a count of the requests it accepted can never exceed the limit;
 * a count of those it received can, and does as soon as the pacer sends calls the window has no room for.
 */
export function vendorWindows(records: readonly RequestRecord[], lanes: VendorLanes): VendorWindows {
  const start = records.length > 0 ? Math.min(...records.map((r) => r.at)) : 0;
  const windows: WindowCount[] = [];
  for (const [lane, { windows: limits }] of laneEntries(lanes)) {
    // A request spends from its own lane and from every lane its lane also spends from.
    const spendsFrom = (r: RequestRecord) => r.lane === lane || (lanes[r.lane]?.alsoSpends ?? []).includes(lane);
    for (const window of limits) {
      const busiest = busiestWindow(records, window.seconds, spendsFrom);
      const refused = busiest
        ? records.filter(
            (r) => spendsFrom(r) && r.outcome === 'rate-limited' && r.at >= busiest.from && r.at <= busiest.to,
          ).length
        : 0;
      const worst = busiest?.requests ?? 0;
      windows.push({
        lane,
        ...window,
        worst,
        refused,
        fromMs: busiest ? busiest.from - start : 0,
        ...(busiest && worst > window.limit
          ? { arrivals: arrivalsIn(records.filter(spendsFrom), busiest.from, busiest.to) }
          : {}),
      });
    }
  }
  const rateLimited = records.filter((r) => r.outcome === 'rate-limited').length;
  const described = windows.map(
    (w) =>
      `${w.lane} ${w.limit}/${w.seconds} s: worst ${w.worst}` +
      `${w.refused > 0 ? ` (${w.refused} refused)` : ''} at +${(w.fromMs / 1000).toFixed(1)} s` +
      (w.arrivals ? ` [arrivals, ms: ${w.arrivals}]` : ''),
  );
  return {
    windows,
    over: Math.max(0, ...windows.map((w) => w.worst - w.limit)),
    rateLimited,
    requests: records.length,
    summary: `${described.join('; ')}; ${rateLimited} 429s in ${records.length} requests`,
  };
}

function arrivalsIn(records: readonly RequestRecord[], from: number, to: number): string {
  return records
    .filter((r) => r.at >= from && r.at <= to)
    .sort((a, b) => a.at - b.at)
    .map((r) => `${Math.round(r.at - from)}${r.outcome === 'rate-limited' ? 'R' : ''}${r.sender ? `@${r.sender}` : ''}`)
    .join(' ');
}

function laneEntries(lanes: VendorLanes): [LaneName, { windows: readonly Window[] }][] {
  return Object.entries(lanes).flatMap(([lane, plan]) => (plan ? [[LaneNameSchema.parse(lane), plan]] : []));
}
