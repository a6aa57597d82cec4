// Workflow-safe: pure arithmetic, so the sync workflow reckons its own finish with the same code as the CLI.
import type { LaneName } from './plans.js';
import type { Priority } from './priority.js';

const RANK: Record<Priority, number> = { high: 0, normal: 1, low: 2 };

/** One lane of the account's plan, as its allowance gives it (src/core/allowance.ts): what every sync spends from. */
export interface LaneCapacity {
  lane: LaneName;
  /** As the governor paces the lane (its windows widened by the margin), where the sync's plan says. */
  callsPerSecond: number;
  rowsPerCall: number;
}

/** A running sync as the account's governor sees it. */
export interface SyncLoad {
  id: string;
  /** Rows not yet read. A sync's scan hands each lane what it has room for, so rows are not bound to a lane. */
  rowsLeft: number;
  /** The share of every window the sync may use (0 < share <= 1). */
  share: number;
  priority?: Priority | undefined;
  /** The sync's measured rate over its last minute (workflows/recent-rate.ts), once it has one. */
  recentRowsPerSecond?: number | undefined;
}

/**
 * Seconds until `sync` has read its last row, or undefined if nothing will ever carry it (no lane has calls). The
 * account's lanes are shared by `others` (the account's other running syncs): those of higher priority go first,
 * those of equal priority share each lane evenly (each capped by its share, what one leaves going to the rest), and
 * lower ones yield to it. As syncs ahead finish, the rest speed up: the reckoning runs phase by phase, each ending
 * where a sync finishes.
 */
export function expectedSeconds(
  sync: SyncLoad,
  lanes: readonly LaneCapacity[],
  others: readonly SyncLoad[] = [],
): number | undefined {
  if (sync.rowsLeft <= 0) return 0;
  const running = [sync, ...others.filter((other) => other.id !== sync.id)]
    .filter((load) => load.rowsLeft > 0)
    .map((load) => ({ load, left: load.rowsLeft }));
  // One pace for every sync scales every phase alike: the plan's phases, stretched by it.
  const pace = measuredPace(running, lanes);
  let elapsed = 0;
  for (;;) {
    const rates = allocate(running, lanes);
    const own = running.find((entry) => entry.load === sync)!;
    let phase = Infinity;
    for (const entry of running) {
      const rate = rates.get(entry) ?? 0;
      if (rate > 0) phase = Math.min(phase, entry.left / rate);
    }
    if (phase === Infinity) return undefined;
    elapsed += phase;
    for (const entry of [...running]) {
      entry.left -= (rates.get(entry) ?? 0) * phase;
      // The one that ended the phase may keep a rounding's worth of rows: it is done.
      if (entry.left <= 1e-9 * entry.load.rowsLeft) running.splice(running.indexOf(entry), 1);
    }
    if (!running.includes(own)) return elapsed / pace;
  }
}

/**
 * What a sync's last call adds to the reckoning, which takes rows as flowing: they go in calls, and a sync is done when
 * its last call is answered, on average half a call's interval after its rows would have flowed out, on the lane
 * whose calls are furthest apart at the sync's share (LeadSquared Enterprise's bulk lane: 2.6 s). Without it the
 * estimate came 2.8-3.1 s early in each of five runs of a 750-row sync alone (5.4-5.8%).
 */
export function lastCallSeconds(lanes: readonly LaneCapacity[], share: number): number {
  const intervals = lanes.filter((lane) => lane.callsPerSecond > 0).map((lane) => 1 / (lane.callsPerSecond * share));
  return intervals.length > 0 ? Math.max(...intervals) / 2 : 0;
}

interface Running {
  load: SyncLoad;
  left: number;
}

/**
 * How much of what the plan gives them the account's syncs get, by their rates over the last minute: at most 1.
 * The measured rate shows what the plan does not: the pacing margin (LeadSquared's windows run at 96.2% of the plan),
 * a vendor that cut its windows, a slow source, a loaded worker, the calls two syncs' chunks lose to each other. Above
 * the plan it is not taken: the minute then holds the burst of a sync's first windows, which start empty, and the
 * plan's ceiling holds after it. It is reckoned over the account's syncs together, not each alone: syncs of equal
 * priority do not alternate call by call (each reservation takes what is free, in arrival order), so one sync's minute
 * reads above or below its even share while their sum holds. So a sync
 * not yet measured runs at its peers' pace, and the pace holds for every later phase. A slow source beside others
 * does not show: they take the slots it leaves. Undefined measures nothing: 1.
 */
function measuredPace(running: readonly Running[], lanes: readonly LaneCapacity[]): number {
  const reckoned = allocate(running, lanes);
  let measured = 0;
  let given = 0;
  for (const entry of running) {
    const recent = entry.load.recentRowsPerSecond;
    if (recent === undefined) continue;
    measured += recent;
    given += reckoned.get(entry) ?? 0;
  }
  return given > 0 ? Math.min(1, measured / given) : 1;
}

/** Rows per second each running sync gets: lane by lane, priority by priority, evenly within one (capped by share). */
function allocate(running: readonly Running[], lanes: readonly LaneCapacity[]): Map<Running, number> {
  const rates = new Map<Running, number>(running.map((entry) => [entry, 0]));
  for (const lane of lanes) {
    let free = lane.callsPerSecond;
    for (const rank of [...new Set(running.map((entry) => rankOf(entry.load)))].sort((a, b) => a - b)) {
      const peers = running.filter((entry) => rankOf(entry.load) === rank);
      // Water-filling: the syncs whose share caps them below an even split take their cap, the rest split the rest.
      const byCap = [...peers].sort((a, b) => a.load.share - b.load.share);
      for (const [i, entry] of byCap.entries()) {
        const calls = Math.min(entry.load.share * lane.callsPerSecond, free / (byCap.length - i));
        free -= calls;
        rates.set(entry, rates.get(entry)! + calls * lane.rowsPerCall);
      }
    }
  }
  return rates;
}

function rankOf(load: SyncLoad): number {
  return RANK[load.priority ?? 'normal'];
}
