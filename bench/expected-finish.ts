import { setTimeout as sleep } from 'node:timers/promises';
import { accountProgress } from '../src/api/expected-finish.js';
import { startSync, syncProgress, type SyncHandle } from '../src/api/syncs.js';
import { formatTable } from '../src/cli/table.js';
import { writeLeadsCsv, type BenchTemporal } from './harness.js';
import { withLeadSquaredAccount } from './leadsquared.js';

/** LeadSquared Enterprise at its default margin: its syncs, estimated and measured, two minutes and a half in all. */
export const EXPECTED_FINISH_PLAN = 'enterprise';
/**
 * How long after its start a sync's finish is estimated: four of the plan's windows, by when the rates of the last
 * minute leave out the first windows' burst (at 10 s, beside another sync, the estimate was 8-13% early: the pair's
 * turns cost them 5% of the plan, which no rate showed yet).
 */
export const ESTIMATED_AFTER_MS = 20_000;

export interface FinishScenario {
  name: string;
  /** Rows of the sync whose finish is estimated. */
  rows: number;
  /** Rows of a second sync of equal priority started beside it on the same account, if any. */
  besideRows?: number;
}

/**
 * Alone; and beside a sync of half its rows, which ends first: the estimate must see the plan go whole to the sync
 * once the other is done, which its own rate up to then does not show.
 */
export const FINISH_SCENARIOS: readonly FinishScenario[] = [
  { name: 'alone', rows: 750 },
  { name: 'beside a sync of equal priority (half its rows)', rows: 750, besideRows: 375 },
];

export interface FinishRun {
  scenario: FinishScenario;
  /** Seconds from the sync's start to the finish `leadsync status` expected, asked ESTIMATED_AFTER_MS in. */
  estimatedSeconds: number;
  /** The same from the sync's own estimate (its progress line and Web UI details), which knows only itself. */
  ownEstimateSeconds: number;
  /** Seconds from the sync's start to its result, as the result says. */
  measuredSeconds: number;
  /** Rows read when the estimate was made. */
  readAtEstimate: number;
}

/** The estimate's error as a share of the measured time from the start: what the 10% is held to. */
export function finishError(run: FinishRun, estimate: 'status' | 'own' = 'status'): number {
  const estimated = estimate === 'status' ? run.estimatedSeconds : run.ownEstimateSeconds;
  return (estimated - run.measuredSeconds) / run.measuredSeconds;
}

export async function benchExpectedFinish(temporal: BenchTemporal): Promise<FinishRun[]> {
  const runs: FinishRun[] = [];
  for (const scenario of FINISH_SCENARIOS) {
    runs.push(await benchScenario(temporal, scenario));
    process.stderr.write(`${finishTable(runs.slice(-1))}\n`);
  }
  return runs;
}

async function benchScenario(temporal: BenchTemporal, scenario: FinishScenario): Promise<FinishRun> {
  return withLeadSquaredAccount(temporal, EXPECTED_FINISH_PLAN, ({ name, withWorker }) =>
    withWorker(async (taskQueue) => {
      const start = async (rows: number, prefix: string) =>
        startSync(
          temporal.client,
          { account: name, source: { kind: 'csv', path: await writeLeadsCsv(rows, `${name}-${prefix}`) } },
          { taskQueue },
        );
      const [sync, beside] = await Promise.all([
        start(scenario.rows, 'estimated'),
        scenario.besideRows ? start(scenario.besideRows, 'beside') : undefined,
      ]);
      const result = sync.result();
      await sleep(ESTIMATED_AFTER_MS);
      const own = await syncProgress(sync);
      const status = await accountProgress(temporal.client, sync);
      const [{ seconds: measuredSeconds }] = await Promise.all([result, beside?.result()]);
      // The sync's own clock throughout: its start, its estimates and its result's seconds are all the workflow's.
      return {
        scenario,
        estimatedSeconds: secondsFrom(own.startedAt, status.expectedFinishAt, sync),
        ownEstimateSeconds: secondsFrom(own.startedAt, own.expectedFinishAt, sync),
        measuredSeconds,
        readAtEstimate: status.counts.read,
      };
    }),
  );
}

function secondsFrom(startedAt: number, at: number | undefined, sync: SyncHandle): number {
  if (at === undefined) throw new Error(`${sync.workflowId} gave no expected finish ${ESTIMATED_AFTER_MS} ms in`);
  return (at - startedAt) / 1000;
}

export function finishTable(runs: readonly FinishRun[]): string {
  const percent = (error: number) => `${error >= 0 ? '+' : ''}${(100 * error).toFixed(1)}%`;
  return formatTable(
    ['sync', 'rows', 'read when estimated', 'expected (status)', 'expected (its own)', 'measured', 'error (status)'],
    runs.map((run) => [
      run.scenario.name,
      String(run.scenario.rows),
      `${run.readAtEstimate} at ${ESTIMATED_AFTER_MS / 1000} s`,
      `${run.estimatedSeconds.toFixed(1)} s`,
      `${run.ownEstimateSeconds.toFixed(1)} s (${percent(finishError(run, 'own'))})`,
      `${run.measuredSeconds.toFixed(1)} s`,
      percent(finishError(run)),
    ]),
  );
}
