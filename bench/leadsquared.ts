import { randomBytes } from 'node:crypto';
import { rowsPerSecond as planRowsPerSecond } from '../src/core/allowance.js';
import { type Plan } from '../src/core/plans.js';
import { formatTable } from '../src/cli/table.js';
import { peakPerWindow, spentQuota, type RequestRecord } from '../src/simulation/request-log.js';
import {
  startLeadSquaredSimulator,
  type RunningLeadSquaredSimulator,
} from '../src/vendors/leadsquared/simulator/server.js';
import type { SyncInput, SyncResult } from '../src/core/contract.js';
import { writeLeadsCsv, type BenchTemporal } from './harness.js';
import { actionsPerThousandRows, type ActionCounts } from './temporal-actions.js';
import { shareOfWindow } from './windows.js';
import { LEADSQUARED_PLANS } from '../src/vendors/leadsquared/plans.js';
import { leadSquared } from '../src/vendors/leadsquared/index.js';

export interface PlanRun {
  plan: string;
  rows: number;
  seconds: number;
  minimumSeconds: number;
  rowsPerSecond: number;
  maxRowsPerSecond: number;
  /** Every request that reached the simulator, refused ones included, and those it refused with a 429. */
  requests: number;
  rateLimited: number;
  /** Temporal actions the run spent, by type (undefined on a cluster without a metrics endpoint). */
  actions: ActionCounts | undefined;
  lanes: {
    lane: 'general' | 'bulk';
    allowed: number;
    peak: number;
    mean: number;
    windows: number;
    /** The share of the lane's allowance the run reached, by the simulator's record (`shareOfWindow`). */
    share: number | undefined;
  }[];
}

const WINDOW_SECONDS = 5;
/**
 * The margin of the bench's LeadSquared accounts: the vendor's default, as a user's account has it. Every window is
 * enforced as its span plus the margin, so a lane's steady state is 5 s / (5 s + margin) of its allowance.
 */
export const MARGIN_MS = leadSquared.defaultMarginMs;

/**
 * Each LeadSquared plan against a simulator that enforces it strictly: a sync of enough rows to fill `seconds`
 * (at least 6 windows) at the plan's ceiling, then the simulator's own record of every request, per window.
 */
export async function benchLeadSquaredPlans(
  temporal: BenchTemporal,
  seconds: number,
  plans?: string[],
): Promise<PlanRun[]> {
  const runs: PlanRun[] = [];
  for (const plan of Object.values(LEADSQUARED_PLANS).filter((p) => !plans || plans.includes(p.name))) {
    runs.push(await benchPlan(temporal, plan, seconds));
    process.stderr.write(`${planTable(runs.slice(-1))}\n`);
  }
  return runs;
}

async function benchPlan(temporal: BenchTemporal, plan: Plan, seconds: number): Promise<PlanRun> {
  const maxRowsPerSecond = planRowsPerSecond(plan.lanes);
  const rows = Math.ceil(maxRowsPerSecond * seconds);
  return withLeadSquaredAccount(temporal, plan.name, async ({ name, simulator, runSync }) => {
    const file = await writeLeadsCsv(rows, name);
    const { value: result, actions } = await temporal.withActions(() =>
      runSync({ source: { kind: 'csv', path: file } }),
    );
    if (result.accepted !== rows) throw new Error(`${plan.name}: ${result.accepted} of ${rows} rows accepted`);
    const report = simulator.report();
    // The strict reading: a bulk call spends from the general lane too, so the general window counts both.
    const onGeneral = (r: RequestRecord) => spentQuota(r);
    const onBulk = (r: RequestRecord) => spentQuota(r) && r.lane === 'bulk';
    return {
      plan: plan.name,
      rows,
      seconds: result.seconds,
      minimumSeconds: rows / maxRowsPerSecond,
      rowsPerSecond: rows / result.seconds,
      maxRowsPerSecond,
      requests: report.totals.requests,
      rateLimited: report.totals.rateLimited,
      actions,
      lanes: [
        laneUsage('general', plan.lanes.general!.windows[0]!.limit, report.requests, onGeneral),
        laneUsage('bulk', plan.lanes.bulk!.windows[0]!.limit, report.requests, onBulk),
      ],
    };
  });
}

/** A bench account on a LeadSquared plan, as a user's config has it, and its strict simulator. */
export interface LeadSquaredBenchAccount {
  name: string;
  simulator: RunningLeadSquaredSimulator;
  /** One sync to the end, with a worker for the account. */
  runSync(input: Omit<SyncInput, 'account'>): Promise<SyncResult>;
  /** A worker for the account while `work` runs, given the workflow task queue. */
  withWorker<T>(work: (taskQueue: string) => Promise<T>): Promise<T>;
}

/** Starts a simulator enforcing `plan` strictly, hands `work` an account on it, and stops the simulator after. */
export async function withLeadSquaredAccount<T>(
  temporal: BenchTemporal,
  plan: string,
  work: (account: LeadSquaredBenchAccount) => Promise<T>,
): Promise<T> {
  const name = `bench-lsq-${plan}-${randomBytes(3).toString('hex')}`;
  const [accessKey, secretKey] = [randomBytes(8).toString('hex'), randomBytes(8).toString('hex')];
  const simulator = await startLeadSquaredSimulator({ plan, accessKey, secretKey });
  const variable = name.replace(/-/g, '_').toUpperCase();
  const account = {
    name,
    settings: {
      vendor: 'leadsquared',
      plan,
      baseUrl: simulator.baseUrl,
      credentials: { accessKeyEnv: `${variable}_AK`, secretKeyEnv: `${variable}_SK` },
    },
  };
  const env = { [`${variable}_AK`]: accessKey, [`${variable}_SK`]: secretKey };
  try {
    return await work({
      name,
      simulator,
      runSync: (input) => temporal.runSync(account, env, input),
      withWorker: (inner) => temporal.withWorker(account, env, inner),
    });
  } finally {
    await simulator.stop();
  }
}

/** The most a lane paced to windows widened by the margin can use of its allowance, however long the sync. */
export function steadyStateShare(): number {
  return WINDOW_SECONDS / (WINDOW_SECONDS + MARGIN_MS / 1000);
}

/** Peak over any sliding window, and the mean over the consecutive full windows of the run. */
function laneUsage(
  lane: 'general' | 'bulk',
  allowed: number,
  records: readonly RequestRecord[],
  counts: (r: RequestRecord) => boolean,
): PlanRun['lanes'][number] {
  const times = records.filter(counts).map((r) => r.at);
  const start = Math.min(...times);
  const end = Math.max(...times);
  const windows = Math.floor((end - start) / 1000 / WINDOW_SECONDS);
  const inFullWindows = times.filter((t) => t < start + windows * WINDOW_SECONDS * 1000).length;
  return {
    lane,
    allowed,
    peak: peakPerWindow(records, WINDOW_SECONDS, counts),
    mean: windows > 0 ? inFullWindows / windows : 0,
    windows,
    share: shareOfWindow(records, { limit: allowed, seconds: WINDOW_SECONDS }, counts)?.share,
  };
}

export function planTable(runs: PlanRun[]): string {
  return formatTable(
    [
      'plan',
      'rows',
      'general/5s mean (peak) of allowed',
      'bulk/5s mean (peak) of allowed',
      'util.',
      '429s',
      'rows/s of max',
      'time of minimum',
      'Temporal actions per 1,000 rows',
    ],
    runs.map((run) => {
      const [general, bulk] = run.lanes;
      const lane = (l: typeof general) => `${l!.mean.toFixed(1)} (${l!.peak}) of ${l!.allowed}, ${l!.windows} windows`;
      return [
        run.plan,
        String(run.rows),
        lane(general),
        lane(bulk),
        `${((100 * general!.mean) / general!.allowed).toFixed(0)}%`,
        String(run.rateLimited),
        `${run.rowsPerSecond.toFixed(2)} of ${run.maxRowsPerSecond.toFixed(1)} (${((100 * run.rowsPerSecond) / run.maxRowsPerSecond).toFixed(0)}%)`,
        `${run.seconds.toFixed(1)} s of ${run.minimumSeconds.toFixed(1)} s`,
        actionsPerThousandRows(run.actions, run.rows),
      ];
    }),
  );
}
