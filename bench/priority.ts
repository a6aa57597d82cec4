import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { rowsPerSecond as planRowsPerSecond } from '../src/core/allowance.js';
import { startSync, syncProgress } from '../src/api/syncs.js';
import { formatTable } from '../src/cli/table.js';
import { landedRowsPerSecond, peakPerWindow, spentQuota } from '../src/simulation/request-log.js';
import { LEADSQUARED_PLANS } from '../src/vendors/leadsquared/plans.js';
import { startLeadSquaredSimulator } from '../src/vendors/leadsquared/simulator/server.js';
import { writeLeadsCsv, type BenchTemporal } from './harness.js';

export interface PriorityRun {
  backfillRows: number;
  /** From the high sync's start to its result, in seconds. */
  landedSeconds: number;
  /** The backfill's rows per second as a share of the plan: the two windows before the high sync, and after. */
  before: number;
  after: number;
  /** The busiest 5-second window of each lane, and its limit. */
  peaks: { lane: 'general' | 'bulk'; peak: number; limit: number }[];
  rateLimited: number;
}

const PLAN = LEADSQUARED_PLANS.enterprise!;
const WINDOW_MS = 5_000 + 200;

/**
 * `npm run bench -- --vendors none --priority`: a backfill of `backfillRows` (a million by default) at the ceiling of
 * LeadSquared Enterprise, a 50-row high-priority sync started `leadSeconds` after its first rows landed, the backfill cancelled
 * `afterSeconds` after the high sync landed. Rates and windows from the simulator's record of every request.
 */
export async function benchPriority(
  temporal: BenchTemporal,
  {
    backfillRows,
    leadSeconds = 20,
    afterSeconds = 20,
  }: { backfillRows: number; leadSeconds?: number; afterSeconds?: number },
): Promise<PriorityRun> {
  const name = `bench-priority-${randomBytes(3).toString('hex')}`;
  const [accessKey, secretKey] = [randomBytes(8).toString('hex'), randomBytes(8).toString('hex')];
  const simulator = await startLeadSquaredSimulator({ plan: PLAN.name, accessKey, secretKey });
  const variable = name.replace(/-/g, '_').toUpperCase();
  try {
    const [backfillFile, hotFile] = await Promise.all([
      writeLeadsCsv(backfillRows, `${name}-backfill`),
      writeLeadsCsv(50, `${name}-hot`),
    ]);
    const account = {
      name,
      settings: {
        vendor: 'leadsquared',
        plan: PLAN.name,
        baseUrl: simulator.baseUrl,
        credentials: { accessKeyEnv: `${variable}_AK`, secretKeyEnv: `${variable}_SK` },
      },
    };
    const env = { [`${variable}_AK`]: accessKey, [`${variable}_SK`]: secretKey };
    const { startedAt, landedAt } = await temporal.withWorker(account, env, async (taskQueue) => {
      const start = (path: string, priority: 'normal' | 'high') =>
        startSync(temporal.client, { account: name, source: { kind: 'csv', path }, priority }, { taskQueue });
      const backfill = await start(backfillFile, 'normal');
      // Preparing a million rows takes seconds: the lead counts from the backfill's first rows.
      while ((await syncProgress(backfill)).counts.read === 0) await sleep(500);
      await sleep(leadSeconds * 1000);
      const startedAt = Date.now();
      const hot = await (await start(hotFile, 'high')).result();
      const landedAt = Date.now();
      if (hot.accepted !== 50) throw new Error(`the high sync landed ${hot.accepted} of 50 rows`);
      await sleep(afterSeconds * 1000);
      await backfill.cancel();
      await backfill.result().catch(() => undefined);
      return { startedAt, landedAt };
    });
    const requests = simulator.report().requests;
    const plan = planRowsPerSecond(PLAN.lanes);
    const share = (from: number, to: number) => landedRowsPerSecond(requests, from, to) / plan;
    return {
      backfillRows,
      landedSeconds: (landedAt - startedAt) / 1000,
      before: share(startedAt - 2 * WINDOW_MS, startedAt),
      after: share(landedAt + WINDOW_MS, landedAt + 3 * WINDOW_MS),
      peaks: (['general', 'bulk'] as const).map((lane) => ({
        lane,
        limit: PLAN.lanes[lane]!.windows[0]!.limit,
        // The strict reading: a bulk call spends from the general lane too.
        peak: peakPerWindow(requests, 5, (r) => spentQuota(r) && (lane === 'general' || r.lane === 'bulk')),
      })),
      rateLimited: requests.filter((r) => r.outcome === 'rate-limited').length,
    };
  } finally {
    await simulator.stop();
  }
}

export function priorityTable(runs: PriorityRun[]): string {
  const percent = (share: number) => `${(100 * share).toFixed(1)}%`;
  return formatTable(
    ['backfill rows', 'high sync of 50 rows landed', 'backfill before / a window after', 'peak per 5 s window', '429s'],
    runs.map((run) => [
      String(run.backfillRows),
      `${run.landedSeconds.toFixed(1)} s (bound 10.4 s)`,
      `${percent(run.before)} / ${percent(run.after)} of the plan`,
      run.peaks.map((p) => `${p.lane} ${p.peak} of ${p.limit}`).join(', '),
      String(run.rateLimited),
    ]),
  );
}
