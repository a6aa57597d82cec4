// Workflow-safe: pure arithmetic, so the sync workflow reckons its own finish with the same code as the CLI.
import type { LaneName } from './plans.js';

/** A sync's priority: the governor serves higher ones first, equal ones by arrival. Absent is normal. */
export type Priority = 'high' | 'normal' | 'low';

const RANK: Record<Priority, number> = { high: 0, normal: 1, low: 2 };

/** One lane of the account's plan, as its allowance gives it (src/core/allowance.ts): what every sync spends from. */
export interface LaneCapacity {
  lane: LaneName;
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
    .map((load) => ({ load, left: load.rowsLeft, pace: 1 }));
  // The measured rate bounds what a sync gets out of its allowance: a vendor that cut its windows, a slow source,
  // the pacing margin (3.8% of LeadSquared's windows) all show in it, and none in the plan. Against the plan it is
  // only ever lower: above it, the minute holds the burst of a sync's first windows (which start empty) or a time a
  // sync ahead was idle, neither of which lasts, while the plan's ceiling does. So the pace it sets, at most 1, holds
  // for every later phase: it is the sync's, and so are its causes.
  const first = allocate(running, lanes);
  for (const entry of running) {
    const recent = entry.load.recentRowsPerSecond;
    const reckoned = first.get(entry) ?? 0;
    if (recent !== undefined && reckoned > 0) entry.pace = Math.min(1, recent / reckoned);
  }
  let elapsed = 0;
  for (;;) {
    const rates = allocate(running, lanes);
    const own = running.find((entry) => entry.load === sync)!;
    let phase = Infinity;
    for (const entry of running) {
      const rate = (rates.get(entry) ?? 0) * entry.pace;
      if (rate > 0) phase = Math.min(phase, entry.left / rate);
    }
    if (phase === Infinity) return undefined;
    elapsed += phase;
    for (const entry of [...running]) {
      entry.left -= (rates.get(entry) ?? 0) * entry.pace * phase;
      // The one that ended the phase may keep a rounding's worth of rows: it is done.
      if (entry.left <= 1e-9 * entry.load.rowsLeft) running.splice(running.indexOf(entry), 1);
    }
    if (!running.includes(own)) return elapsed;
  }
}

interface Running {
  load: SyncLoad;
  left: number;
  pace: number;
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
