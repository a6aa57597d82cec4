import type { Records } from './contract.js';
import { sustainedRate, type LaneName, type LanePlan, type Plan, type Window } from './plans.js';
import { recordLanes } from './record-lanes.js';

export type Lanes = Partial<Record<LaneName, LanePlan>>;

export interface LaneAllowance {
  lane: LaneName;
  /** Calls per second this lane may make in the long run, after what other lanes spend from it. */
  callsPerSecond: number;
  rowsPerCall: number;
  rowsPerSecond: number;
}

/**
 * Splits an account's allowance between its lanes so that rows per second is as high as possible:
 * the lanes that carry the most rows per call run at their own ceiling first, and a lane another lane
 * also spends from (LeadSquared's general lane, under the strict reading) gets what is left.
 * Enterprise: bulk 1 call / 5 s x 50 rows + general (25 - 1) calls / 5 s x 1 row = 14.8 rows/s.
 */
export function laneAllowances(lanes: Lanes): LaneAllowance[] {
  const entries = Object.entries(lanes) as [LaneName, LanePlan][];
  const byRowsPerCall = [...entries].sort(([, a], [, b]) => b.rowsPerCall - a.rowsPerCall);
  const spentByOthers = new Map<LaneName, number>();
  const result: LaneAllowance[] = [];
  for (const [lane, plan] of byRowsPerCall) {
    const own = sustainedRate(plan.windows) - (spentByOthers.get(lane) ?? 0);
    const limits = [own, ...plan.alsoSpends.map((other) => headroom(lanes, other, spentByOthers))];
    const callsPerSecond = Math.max(0, Math.min(...limits));
    for (const other of plan.alsoSpends) spentByOthers.set(other, (spentByOthers.get(other) ?? 0) + callsPerSecond);
    result.push({
      lane,
      callsPerSecond,
      rowsPerCall: plan.rowsPerCall,
      rowsPerSecond: callsPerSecond * plan.rowsPerCall,
    });
  }
  return result;
}

/**
 * The lanes a sync of `records` runs on an account's plan, each with its allowance: the one reckoning of them that the
 * worker's task queues, the governor's slots, prepareSync, the dry run and the plans table share. A lane the others
 * leave no calls is left out, as no sync can use it. Without a kind, the plan's own lanes (those of leads): what the
 * task queues and the governor go by, whatever a sync carries.
 */
export function syncAllowances(plan: Plan, records: Records = 'leads'): LaneAllowance[] {
  return laneAllowances(recordLanes(plan, records)).filter((allowance) => allowance.callsPerSecond > 0);
}

/**
 * The calls per second the governor lets each of the sync's lanes make: its allowance with every window widened by
 * the account's margin, as the governor holds them (src/core/governor/ledger.ts). LeadSquared's 5-second windows run
 * at 5 of every 5.2 seconds, 96.2% of the plan: what a sync's expected finish reckons with.
 */
export function pacedAllowances(plan: Plan, marginMs: number, records: Records = 'leads'): LaneAllowance[] {
  const widened = (windows: readonly Window[]) => windows.map((w) => ({ ...w, seconds: w.seconds + marginMs / 1000 }));
  const lanes = Object.fromEntries(
    Object.entries(recordLanes(plan, records)).map(([name, lane]) => [
      name,
      { ...lane, windows: widened(lane.windows) },
    ]),
  );
  return laneAllowances(lanes).filter((allowance) => allowance.callsPerSecond > 0);
}

function headroom(lanes: Lanes, lane: LaneName, spent: Map<LaneName, number>): number {
  const plan = lanes[lane];
  return plan ? sustainedRate(plan.windows) - (spent.get(lane) ?? 0) : Infinity;
}

export function rowsPerSecond(lanes: Lanes): number {
  return laneAllowances(lanes).reduce((sum, a) => sum + a.rowsPerSecond, 0);
}
