import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSync } from '../src/api/syncs.js';
import { formatTable } from '../src/cli/table.js';
import { rowsPerSecond as planRowsPerSecond } from '../src/core/allowance.js';
import { spentQuota } from '../src/simulation/request-log.js';
import { LEADSQUARED_PLANS } from '../src/vendors/leadsquared/plans.js';
import {
  startLeadSquaredSimulator,
  type RunningLeadSquaredSimulator,
} from '../src/vendors/leadsquared/simulator/server.js';
import { writeLeadsCsv, type BenchTemporal } from './harness.js';
import { processUsage } from './process-usage.js';
import { actionsPerThousandRows, totalActions, type ActionCounts } from './temporal-actions.js';
import { shareOfWindow } from './windows.js';
import { startWorkerProcess, type WorkerProcess } from './worker-process.js';

/** Every account is on LeadSquared Enterprise: the plan the rate claims are made on. */
const PLAN = LEADSQUARED_PLANS.enterprise!;
const GENERAL = PLAN.lanes.general!.windows[0]!;
const MAX_ROWS_PER_SECOND = planRowsPerSecond(PLAN.lanes);
/** TASK_QUEUE_TYPE_WORKFLOW and _ACTIVITY (@temporalio/proto, not a dependency of its own). */
const [WORKFLOW_QUEUE, ACTIVITY_QUEUE] = [1, 2];

export interface AccountsOptions {
  accounts: number;
  /** How many of the accounts sync at once, each on a simulator of its own. */
  syncing: number;
  /** How long each sync would take at its plan's ceiling: its rows are sized to it. */
  seconds: number;
}

export interface AccountsRun extends AccountsOptions {
  rowsPerAccount: number;
  /** From spawning `leadsync worker` to its log line saying every Worker is created. */
  startSeconds: number;
  idleRssMb: number;
  peakRssMb: number;
  threads: number;
  /** The task queues the worker polls, and the pollers the server lists on them (its own view, DescribeTaskQueue). */
  queues: number;
  pollers: number;
  /** From the first sync started to the last one done. */
  wallSeconds: number;
  /** The worker's CPU over that time, for every 1,000 rows landed: what sizes a fleet of workers. */
  cpuSecondsPerThousandRows: number;
  actions: ActionCounts | undefined;
  rateLimited: number;
  /** Vendor calls the simulators answered, and the connections they came on: a kept connection serves many calls. */
  calls: number;
  connections: number;
  /** Per syncing account: the share of its general window it used (the vendor's record) and of its rows per second. */
  windowShares: number[];
  rowShares: number[];
}

/**
 * One `leadsync worker` process with `accounts` LeadSquared accounts configured on shared task queues, `syncing` of
 * them syncing at once, each against a strict simulator of its own on loopback (the others point at a closed port:
 * nothing calls them). Measured from outside: the worker's start, memory and threads from /proc, the pollers from
 * the server, actions from the server's counter, 429s and each account's share of its plan from the simulators.
 */
export async function benchAccounts(temporal: BenchTemporal, options: AccountsOptions): Promise<AccountsRun> {
  const rowsPerAccount = Math.ceil(MAX_ROWS_PER_SECOND * options.seconds);
  const [accessKey, secretKey] = [randomBytes(8).toString('hex'), randomBytes(8).toString('hex')];
  const simulators: RunningLeadSquaredSimulator[] = [];
  let worker: WorkerProcess | undefined;
  try {
    for (let i = 0; i < options.syncing; i++) {
      simulators.push(await startLeadSquaredSimulator({ plan: PLAN.name, accessKey, secretKey }));
    }
    const directory = await mkdtemp(join(tmpdir(), 'leadsync-bench-accounts-'));
    const configPath = join(directory, 'leadsync.json');
    const name = (i: number) => `account-${i + 1}`;
    const account = (baseUrl: string) => ({
      vendor: 'leadsquared',
      plan: PLAN.name,
      baseUrl,
      credentials: { accessKeyEnv: 'BENCH_LSQ_ACCESS_KEY', secretKeyEnv: 'BENCH_LSQ_SECRET_KEY' },
    });
    // JSON: YAML would write one account object once and alias it, which its reader refuses past a limit.
    await writeFile(
      configPath,
      JSON.stringify({
        accounts: Object.fromEntries(
          Array.from({ length: options.accounts }, (_, i) => [
            name(i),
            account(simulators[i]?.baseUrl ?? 'http://127.0.0.1:9/v2'),
          ]),
        ),
        sources: { files: { roots: [tmpdir()] } },
        rejects: { directory: join(directory, 'rejects') },
        worker: { taskQueues: 'shared' },
      }),
    );

    const taskQueue = `bench-accounts-${randomBytes(3).toString('hex')}`;
    worker = await startWorkerProcess(
      temporal.endpoint,
      configPath,
      taskQueue,
      { BENCH_LSQ_ACCESS_KEY: accessKey, BENCH_LSQ_SECRET_KEY: secretKey },
      { started: (lines) => laneQueuesOnceStarted(lines) !== undefined },
    );
    const laneQueues = laneQueuesOnceStarted(worker.startLines)!;
    const startSeconds = worker.startSeconds;
    // Let the pollers settle before the idle reading.
    await sleep(10_000);
    const idle = await processUsage(worker.pid);

    const files = await Promise.all(
      simulators.map((_, i) => writeLeadsCsv(rowsPerAccount, `${name(i)}-${randomBytes(2).toString('hex')}`)),
    );
    let peakRssMb = idle.rssMb;
    let running = true;
    const sampling = (async () => {
      while (running) {
        peakRssMb = Math.max(peakRssMb, (await processUsage(worker!.pid)).rssMb);
        await sleep(1_000);
      }
    })();
    const before = await processUsage(worker.pid);
    const firstStartMs = Date.now();
    const { value: results, actions } = await temporal.withActions(async () => {
      const handles = await Promise.all(
        files.map((path, i) =>
          startSync(temporal.client, { account: name(i), source: { kind: 'csv', path } }, { taskQueue }),
        ),
      );
      return Promise.all(handles.map((handle) => handle.result()));
    });
    const wallSeconds = (Date.now() - firstStartMs) / 1000;
    running = false;
    await sampling;
    const after = await processUsage(worker.pid);

    const short = results.findIndex((result) => result.accepted !== rowsPerAccount);
    if (short >= 0) throw new Error(`${name(short)}: ${results[short]!.accepted} of ${rowsPerAccount} rows accepted`);
    const reports = simulators.map((simulator) => simulator.report());
    const pollers = await Promise.all(
      [taskQueue, ...laneQueues].map(async (queue) => {
        const described = await temporal.client.workflowService.describeTaskQueue({
          namespace: temporal.endpoint.namespace,
          taskQueue: { name: queue },
          taskQueueType: queue === taskQueue ? WORKFLOW_QUEUE : ACTIVITY_QUEUE,
        });
        return described.pollers?.length ?? 0;
      }),
    );
    return {
      ...options,
      rowsPerAccount,
      startSeconds,
      idleRssMb: idle.rssMb,
      peakRssMb: Math.max(peakRssMb, after.rssMb),
      threads: after.threads,
      queues: 1 + laneQueues.length,
      pollers: pollers.reduce((sum, n) => sum + n, 0),
      wallSeconds,
      cpuSecondsPerThousandRows: (after.cpuSeconds - before.cpuSeconds) / ((rowsPerAccount * options.syncing) / 1000),
      actions,
      rateLimited: reports.reduce((sum, report) => sum + report.totals.rateLimited, 0),
      calls: reports.reduce((sum, report) => sum + report.totals.requests, 0),
      connections: reports.reduce((sum, report) => sum + report.connections, 0),
      windowShares: reports.map((report) => shareOfWindow(report.requests, GENERAL, spentQuota)?.share ?? 0),
      rowShares: results.map((result) => rowsPerAccount / result.seconds / MAX_ROWS_PER_SECOND),
    };
  } finally {
    await worker?.stop();
    await Promise.all(simulators.map((simulator) => simulator.stop()));
  }
}

/**
 * The activity queues the worker polls once its log lines say every Worker is created ("task queues: <layout>" with
 * the number of lanes, then one "polling lane" line each), undefined before.
 */
function laneQueuesOnceStarted(lines: readonly string[]): string[] | undefined {
  let lanes: number | undefined;
  const queues: string[] = [];
  for (const line of lines) {
    if (line.includes('"task queues: ')) lanes = (JSON.parse(line) as { lanes: number }).lanes;
    if (line.includes('"polling lane"')) queues.push((JSON.parse(line) as { taskQueue: string }).taskQueue);
  }
  return lanes !== undefined && queues.length === lanes ? queues : undefined;
}

export function accountsTable(runs: readonly AccountsRun[]): string {
  const percent = (x: number) => `${(100 * x).toFixed(0)}%`;
  const spread = (values: readonly number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return `${percent(sorted[0]!)} / ${percent(sorted[Math.floor(sorted.length / 2)]!)} / ${percent(sorted.at(-1)!)}`;
  };
  return formatTable(
    [
      'accounts',
      'syncing',
      'rows each',
      'worker start',
      'RSS idle, peak',
      'threads',
      'pollers (queues)',
      'actions/s',
      'worker CPU s per 1,000 rows',
      'actions per 1,000 rows',
      '429s',
      'connections / calls',
      'window share min / median / max',
      'rows/s of plan min / median / max',
    ],
    runs.map((run) => [
      String(run.accounts),
      String(run.syncing),
      String(run.rowsPerAccount),
      `${run.startSeconds.toFixed(1)} s`,
      `${run.idleRssMb.toFixed(0)}, ${run.peakRssMb.toFixed(0)} MB`,
      String(run.threads),
      `${run.pollers} (${run.queues})`,
      run.actions ? (totalActions(run.actions) / run.wallSeconds).toFixed(1) : 'n/a',
      run.cpuSecondsPerThousandRows.toFixed(2),
      actionsPerThousandRows(run.actions, run.rowsPerAccount * run.syncing),
      String(run.rateLimited),
      `${run.connections} / ${run.calls}`,
      spread(run.windowShares),
      spread(run.rowShares),
    ]),
  );
}
