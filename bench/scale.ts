import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { z } from 'zod';
import { startSync } from '../src/api/syncs.js';
import { formatTable } from '../src/cli/table.js';
import { WindowSchema, type Window } from '../src/core/plans.js';
import type { SyncResult } from '../src/core/contract.js';
import { writeBenchConfig, type BenchTemporal } from './harness.js';
import { processUsage } from './process-usage.js';
import { startWorkerProcess } from './worker-process.js';

/** The custom plan of the scale rows: 200 requests per second, every one a 50-row bulk call. */
const REQUESTS_PER_SECOND = 200;
const ROWS_PER_CALL = 50;
const PLAN_ROWS_PER_SECOND = REQUESTS_PER_SECOND * ROWS_PER_CALL;

/**
 * The same 200 requests per second as a vendor may count them: in 1-second windows, or in LeadSquared's 5-second
 * windows. The account's margin (`pacing.marginMs`) is what the governor leaves unused of each window: 100 ms for
 * the 1-second window (9%; the default 300 would cost 23%), the default 300 ms for the 5-second one (6%).
 */
export const SCALE_PLANS: readonly { window: Window; marginMs: number }[] = [
  { window: { limit: REQUESTS_PER_SECOND, seconds: 1 }, marginMs: 100 },
  { window: { limit: REQUESTS_PER_SECOND * 5, seconds: 5 }, marginMs: 300 },
];
const POSTGRES_URL =
  process.env.LEADSYNC_BENCH_POSTGRES_URL ?? `postgres://${process.env.PGUSER ?? 'postgres'}@127.0.0.1:5432/test`;

const ScaleRunSchema = z.object({
  window: WindowSchema,
  rows: z.number(),
  seconds: z.number(),
  minimumSeconds: z.number(),
  rowsPerSecond: z.number(),
  /** Stored by the simulator, and written more than once (a lost or repeated row shows here). */
  landed: z.number(),
  rewritten: z.number(),
  rateLimited: z.number(),
  /** Worker process RSS: the peak while the first 10% of rows landed, and over the whole run (flat: within 1.5x). */
  peakRssFirstTenthMb: z.number(),
  peakRssMb: z.number(),
  /** The worker process's CPU seconds over the sync (its collections included). */
  workerCpuSeconds: z.number(),
  runs: z.number(),
  historyEvents: z.object({ max: z.number(), mean: z.number() }),
});
export type ScaleRun = z.infer<typeof ScaleRunSchema>;

/** How a scale run in its own process hands its row back: one line of its output, after this prefix. */
const SCALE_RUN_LINE = 'scale-run: ';

const ReportSchema = z.object({
  totals: z.object({ rateLimited: z.number(), rowsAccepted: z.number() }),
  leads: z.object({ count: z.number(), created: z.number(), updated: z.number() }),
});

/**
 * A sync of `rows` rows from a PostgreSQL table to a LeadSquared simulator enforcing a custom plan of 200 requests
 * per second. The worker (`leadsync worker`) and the simulator run in processes of their own: the RSS sampled is
 * the worker process's, read from /proc, not this harness's nor a store that grows with every row.
 */
export async function benchScale(
  temporal: BenchTemporal,
  rows: number,
  { window, marginMs }: (typeof SCALE_PLANS)[number],
  /** Node's options for the worker process (`--scale-node-options`). */
  workerNodeOptions: readonly string[] = [],
): Promise<ScaleRun> {
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  const table = `leadsync_bench_scale_${process.pid}`;
  const simulator = await startSimulatorProcess(window);
  try {
    await admin.query(`DROP TABLE IF EXISTS ${table}`);
    await admin.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, email text NOT NULL, first_name text)`);
    await admin.query(
      `INSERT INTO ${table} SELECT i, 'scale-' || i || '@example.com', 'First' || i FROM generate_series(1, $1::bigint) AS i`,
      [rows],
    );
    const name = `bench-scale-${randomBytes(3).toString('hex')}`;
    const taskQueue = `bench-${name}`;
    const configPath = await writeBenchConfig(
      {
        name,
        settings: {
          vendor: 'leadsquared',
          plan: 'custom',
          baseUrl: simulator.baseUrl,
          credentials: { accessKeyEnv: 'BENCH_SCALE_AK', secretKeyEnv: 'BENCH_SCALE_SK' },
          pacing: { marginMs },
          lanes: {
            general: { windows: [window], rowsPerCall: 1 },
            bulk: { windows: [window], rowsPerCall: ROWS_PER_CALL, alsoSpends: ['general'] },
          },
        },
      },
      { sources: { postgres: { bench: { url: POSTGRES_URL, tables: ['public.*'] } } } },
    );
    const worker = await startWorkerProcess(
      temporal.endpoint,
      configPath,
      taskQueue,
      {
        BENCH_SCALE_AK: simulator.accessKey,
        BENCH_SCALE_SK: simulator.secretKey,
      },
      { nodeOptions: workerNodeOptions },
    );
    let peakRss = 0;
    let peakRssFirstTenth = 0;
    let workflowId = '';
    let result: SyncResult;
    const cpuBefore = (await processUsage(worker.pid)).cpuSeconds;
    let cpuSeconds = 0;
    try {
      const handle = await startSync(
        temporal.client,
        {
          account: name,
          source: { kind: 'postgres', connection: 'bench', table, key: 'id' },
          mapping: { EmailAddress: 'email', FirstName: 'first_name' },
        },
        { taskQueue },
      );
      workflowId = handle.workflowId;
      let done = false;
      const finished = handle.result().finally(() => (done = true));
      while (!done) {
        const { rssMb, cpuSeconds: cpu } = await processUsage(worker.pid);
        cpuSeconds = cpu - cpuBefore;
        peakRss = Math.max(peakRss, rssMb);
        const landed = (await simulator.report()).totals.rowsAccepted;
        if (landed < rows / 10) peakRssFirstTenth = Math.max(peakRssFirstTenth, rssMb);
        await Promise.race([finished.catch(() => undefined), sleep(1_000)]);
      }
      result = await finished;
    } finally {
      await worker.stop();
    }
    const report = await simulator.report();
    const history = await historyPerRun(temporal, workflowId);
    return {
      window,
      rows,
      seconds: result.seconds,
      minimumSeconds: rows / PLAN_ROWS_PER_SECOND,
      rowsPerSecond: rows / result.seconds,
      landed: report.leads.count,
      rewritten: report.leads.updated,
      rateLimited: report.totals.rateLimited,
      peakRssFirstTenthMb: peakRssFirstTenth,
      peakRssMb: peakRss,
      workerCpuSeconds: cpuSeconds,
      runs: history.length,
      historyEvents: { max: Math.max(...history), mean: history.reduce((a, b) => a + b, 0) / history.length },
    };
  } finally {
    await simulator.stop();
    await admin.query(`DROP TABLE IF EXISTS ${table}`);
    await admin.end();
  }
}

/**
 * benchScale in a bench process of its own (`bench/scale-run.ts`), on the same Temporal server: the worker's memory
 * is then measured from a clean start, not on a heap that earlier rows grew.
 */
export async function benchScaleInOwnProcess(
  temporal: BenchTemporal,
  rows: number,
  plan: (typeof SCALE_PLANS)[number],
  workerNodeOptions: readonly string[] = [],
): Promise<ScaleRun> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      fileURLToPath(new URL('./scale-run.ts', import.meta.url)),
      ...['--rows', String(rows), '--window-seconds', String(plan.window.seconds)],
      // With `=`: the value starts with a dash.
      ...(workerNodeOptions.length > 0 ? [`--worker-node-options=${workerNodeOptions.join(' ')}`] : []),
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: temporal.endpoint.address,
        TEMPORAL_NAMESPACE: temporal.endpoint.namespace,
      },
    },
  );
  const exited = once(child, 'exit');
  let run: ScaleRun | undefined;
  for await (const line of createInterface({ input: child.stdout })) {
    if (line.startsWith(SCALE_RUN_LINE)) run = ScaleRunSchema.parse(JSON.parse(line.slice(SCALE_RUN_LINE.length)));
    else process.stderr.write(`${line}\n`);
  }
  const [code] = await exited;
  if (code !== 0 || !run)
    throw new Error(`the scale run of ${plan.window.limit} per ${plan.window.seconds} s exited with ${code}`);
  return run;
}

/** The line benchScaleInOwnProcess reads back. */
export function scaleRunLine(run: ScaleRun): string {
  return `${SCALE_RUN_LINE}${JSON.stringify(run)}`;
}

/** Events in each continue-as-new run of the sync, from the server's visibility records. */
async function historyPerRun(temporal: BenchTemporal, workflowId: string): Promise<number[]> {
  const lengths: number[] = [];
  for await (const run of temporal.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    lengths.push(run.historyLength);
  }
  return lengths;
}

interface SimulatorProcess {
  baseUrl: string;
  accessKey: string;
  secretKey: string;
  report(): Promise<z.infer<typeof ReportSchema>>;
  stop(): Promise<void>;
}

/**
 * `leadsync simulate leadsquared` in a child process, with the plan of the scale row. It stands in for a vendor's
 * fleet on one process that holds a million leads: a larger young generation keeps its garbage collector from
 * stalling it for hundreds of milliseconds, which would bunch the calls it then reads and count them into one window
 * as no vendor gateway would.
 */
async function startSimulatorProcess(plan: Window): Promise<SimulatorProcess> {
  const accessKey = randomBytes(8).toString('hex');
  const secretKey = randomBytes(8).toString('hex');
  const window = `${plan.limit}/${plan.seconds}`;
  const child = spawn(
    process.execPath,
    [
      '--max-semi-space-size=64',
      '--import',
      'tsx',
      'src/cli/main.ts',
      'simulate',
      'leadsquared',
      ...['--plan', 'custom', '--general', window, '--bulk', window, '--port', '0'],
      ...['--access-key', accessKey, '--secret-key', secretKey],
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout });
  let baseUrl: string | undefined;
  let adminUrl: string | undefined;
  for await (const line of lines) {
    baseUrl ??= /base URL:\s+(\S+)/.exec(line)?.[1];
    adminUrl ??= /admin URL:\s+(\S+)/.exec(line)?.[1];
    if (baseUrl && adminUrl) break;
  }
  if (!baseUrl || !adminUrl) throw new Error('the simulator did not say where it listens');
  // Keep reading what it prints after, or a full pipe would stall it mid-run.
  child.stdout.resume();
  const admin = adminUrl;
  return {
    baseUrl,
    accessKey,
    secretKey,
    async report() {
      const response = await fetch(`${admin}/report?requests=false`);
      return ReportSchema.parse(await response.json());
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export function scaleTable(runs: ScaleRun[]): string {
  return formatTable(
    [
      'plan',
      'rows',
      'landed (rewritten)',
      '429s',
      'rows/s of plan',
      'time of minimum',
      'worker RSS peak (first 10%)',
      'worker CPU',
      'runs',
      'history events per run (max)',
    ],
    runs.map((run) => [
      `${run.window.limit} per ${run.window.seconds} s`,
      String(run.rows),
      `${run.landed} (${run.rewritten})`,
      String(run.rateLimited),
      `${run.rowsPerSecond.toFixed(0)} of ${PLAN_ROWS_PER_SECOND} (${((100 * run.rowsPerSecond) / PLAN_ROWS_PER_SECOND).toFixed(0)}%)`,
      `${run.seconds.toFixed(1)} s of ${run.minimumSeconds.toFixed(1)} s`,
      `${run.peakRssMb.toFixed(0)} MB (${run.peakRssFirstTenthMb.toFixed(0)} MB)`,
      `${run.workerCpuSeconds.toFixed(1)} s`,
      String(run.runs),
      `${run.historyEvents.mean.toFixed(0)} (${run.historyEvents.max})`,
    ]),
  );
}
