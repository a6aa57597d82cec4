// Measures how Temporal's activity rate limits release work when a queue goes from idle to busy:
// `npx tsx bench/limiter/measure.ts [--quick] [--json FILE]`. Findings and their explanation: bench/limiter/RESULTS.md.
import { realpathSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import {
  bundleWorkflowCode,
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  type WorkflowBundle,
} from '@temporalio/worker';
import { ensureTemporalCli, temporalCliVersion } from '../../tools/temporal/cli-build.js';
import { startDevServer } from '../../tools/temporal/dev-server.js';
import * as activities from './activities.js';
import { INSTANT_MS, startFigures, type StartFigures } from './analysis.js';
import { limiterLoad } from './workflows.js';

/** Where the limit is set: `maxTaskQueueActivitiesPerSecond` (server) or `maxActivitiesPerSecond` (worker). */
export type LimiterSide = 'server' | 'worker';
/** A load on a queue whose workers just started polling, or on one left idle after a first load. */
export type LimiterPhase = 'first-load' | 'after-idle';

export interface LimiterLane {
  name: string;
  /** Calls per second the limiter is set to: the vendor's window limit over its length. */
  rate: number;
  /** The vendor's window, over which `rate * windowSeconds` calls are allowed. */
  windowSeconds: number;
  /** Activities per load: enough to see the burst and then the limiter's steady pace. */
  load: { full: number; quick: number };
}

export const LIMITER_LANES: readonly LimiterLane[] = [
  { name: 'LSQ bulk (1 / 5 s)', rate: 0.2, windowSeconds: 5, load: { full: 8, quick: 4 } },
  { name: 'LSQ Enterprise general (24 / 5 s)', rate: 4.8, windowSeconds: 5, load: { full: 60, quick: 36 } },
  { name: 'SmartLead Standard (10 / s)', rate: 10, windowSeconds: 1, load: { full: 60, quick: 30 } },
  { name: 'SmartLead Pro (20 / s)', rate: 20, windowSeconds: 1, load: { full: 100, quick: 50 } },
];

export interface LimiterResult extends StartFigures {
  /** Read and write partitions per task queue on the server measured. */
  partitions: number;
  limiter: LimiterSide;
  /** Worker processes' worth of pollers on the queue (each with the SDK's default 10 activity pollers). */
  workers: number;
  lane: string;
  rate: number;
  windowSeconds: number;
  /** Calls the vendor allows in one window. */
  allowedPerWindow: number;
  phase: LimiterPhase;
  /** maxInWindow beyond allowedPerWindow: the calls a vendor counting this way would reject. */
  overflow: number;
}

export interface MeasureLimiterOptions {
  /** Fewer activities, only the server-side limit with one worker, a shorter idle gap, both servers at once. */
  quick?: boolean;
  /** The `temporal` binary; found or built by ensureTemporalCli when absent. */
  cliPath?: string;
  /** Progress lines; silent when absent. */
  log?: (line: string) => void;
}

interface Scenario {
  partitions: number;
  limiter: LimiterSide;
  workers: number;
  lane: LimiterLane;
}

interface Plan {
  quick: boolean;
  variants: readonly { limiter: LimiterSide; workers: number }[];
  /**
   * Idle time between the two loads: over 10 s, the "start of a new vendor window" case. It refills a bucket of one
   * second's worth; a quarter of the 0.2/s rate (a partition's share of 4) refills in 20 s, so that bucket may not be.
   */
  idleGapMs: number;
  /** Between scenario starts, so that their first loads do not hit the server in the same instant. */
  staggerMs: number;
  /** Both dev servers at once: halves the wall time, at the price of more noise on a small machine. */
  serversAtOnce: boolean;
}

const PARTITIONS = [4, 1] as const;
const WORKFLOW_QUEUE = 'limiter-bench-workflows';
/** Lets every worker's first polls reach the server (and so set the queue's rate) before any load. */
const POLLERS_SETTLE_MS = 3_000;

/**
 * Runs the limiter measurement against dev servers it starts itself: once with Temporal's default of 4 partitions
 * per task queue, once with 1. Scenarios on one server run side by side on separate queues, which the server
 * limits independently. Installs no Temporal Runtime: the caller's logger (or the SDK's default) applies.
 */
export async function measureLimiter(options: MeasureLimiterOptions = {}): Promise<LimiterResult[]> {
  const log = options.log ?? (() => undefined);
  const quick = options.quick ?? false;
  const plan: Plan = quick
    ? { quick, variants: [{ limiter: 'server', workers: 1 }], idleGapMs: 11_000, staggerMs: 1_000, serversAtOnce: true }
    : {
        quick,
        variants: [
          { limiter: 'server', workers: 1 },
          { limiter: 'server', workers: 2 },
          { limiter: 'worker', workers: 1 },
          { limiter: 'worker', workers: 2 },
        ],
        idleGapMs: 15_000,
        staggerMs: 2_000,
        serversAtOnce: false,
      };
  const cliPath = options.cliPath ?? (await ensureTemporalCli()).path;
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL('./workflows.ts', import.meta.url)),
    logger: new DefaultLogger('WARN'),
  });
  const onServer = (partitions: number) => {
    // The slowest lane first: its scenarios set the length of the run, the others fit in beside them.
    const scenarios = [...LIMITER_LANES]
      .sort((a, b) => a.rate - b.rate)
      .flatMap((lane) => plan.variants.map((variant) => ({ partitions, lane, ...variant })));
    return measureOnServer(partitions, scenarios, plan, cliPath, workflowBundle, log);
  };
  if (plan.serversAtOnce) return (await allOrFirstError(PARTITIONS.map(onServer))).flat();
  const results: LimiterResult[] = [];
  for (const partitions of PARTITIONS) results.push(...(await onServer(partitions)));
  return results;
}

/** Like Promise.all, but lets every task finish (and clean up after itself) before reporting a failure. */
async function allOrFirstError<T>(tasks: readonly Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(tasks);
  const failed = settled.find((outcome) => outcome.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
}

async function measureOnServer(
  partitions: number,
  scenarios: readonly Scenario[],
  plan: Plan,
  cliPath: string,
  workflowBundle: WorkflowBundle,
  log: (line: string) => void,
): Promise<LimiterResult[]> {
  log(`limiter: dev server with ${partitions} partition(s) per task queue, ${scenarios.length} scenarios`);
  const server = await startDevServer({
    cliPath,
    headless: true,
    dynamicConfig: {
      'matching.numTaskqueueReadPartitions': partitions,
      'matching.numTaskqueueWritePartitions': partitions,
    },
  });
  let nativeConnection: NativeConnection | undefined;
  let connection: Connection | undefined;
  try {
    nativeConnection = await NativeConnection.connect({ address: server.address });
    connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection, namespace: server.namespace });
    const workflowWorker = await Worker.create({
      connection: nativeConnection,
      namespace: server.namespace,
      taskQueue: WORKFLOW_QUEUE,
      workflowBundle,
    });
    const results = await workflowWorker.runUntil(async () => {
      const perScenario = await allOrFirstError(
        scenarios.map(async (scenario, index) => {
          await sleep(index * plan.staggerMs);
          return runScenario(scenario, plan, client, server.address, log);
        }),
      );
      return perScenario.flat();
    });
    return results;
  } finally {
    // The server goes whatever else fails: a failed run must not leave one behind.
    try {
      await connection?.close();
      await nativeConnection?.close();
    } finally {
      await server.stop();
    }
  }
}

async function runScenario(
  scenario: Scenario,
  plan: Plan,
  client: Client,
  address: string,
  log: (line: string) => void,
): Promise<LimiterResult[]> {
  const { partitions, limiter, workers: workerCount, lane } = scenario;
  const label = `p${partitions}-${limiter}-w${workerCount}-r${lane.rate}`;
  const activityQueue = `limiter-${label}`;
  const count = plan.quick ? lane.load.quick : lane.load.full;
  const windowMs = lane.windowSeconds * 1_000;
  const allowedPerWindow = Math.round(lane.rate * lane.windowSeconds);

  const load = async (phase: LimiterPhase): Promise<LimiterResult> => {
    const starts = await client.workflow.execute(limiterLoad, {
      taskQueue: WORKFLOW_QUEUE,
      workflowId: `limiter-${label}-${phase}-${Date.now()}`,
      args: [count, activityQueue],
      // A lost worker must fail the run, not hang it.
      workflowExecutionTimeout: '3 minutes',
    });
    const figures = startFigures(starts, windowMs);
    log(`limiter: ${label} ${phase}: ${figures.instantBurst} at once, ${figures.maxInWindow} in a window`);
    return {
      partitions,
      limiter,
      workers: workerCount,
      lane: lane.name,
      rate: lane.rate,
      windowSeconds: lane.windowSeconds,
      allowedPerWindow,
      phase,
      overflow: Math.max(0, figures.maxInWindow - allowedPerWindow),
      ...figures,
    };
  };

  const limit =
    limiter === 'server' ? { maxTaskQueueActivitiesPerSecond: lane.rate } : { maxActivitiesPerSecond: lane.rate };
  const connections: NativeConnection[] = [];
  const workers: Worker[] = [];
  const runs: Promise<void>[] = [];
  try {
    for (let i = 0; i < workerCount; i++) {
      // A connection each, as separate worker processes have: the SDK refuses a second worker for the same task
      // queue on one connection.
      const connection = await NativeConnection.connect({ address });
      connections.push(connection);
      const worker = await Worker.create({
        connection,
        namespace: client.options.namespace,
        taskQueue: activityQueue,
        activities,
        ...limit,
      });
      workers.push(worker);
      runs.push(worker.run());
    }
    await sleep(POLLERS_SETTLE_MS);
    const firstLoad = await load('first-load');
    await sleep(plan.idleGapMs);
    const afterIdle = await load('after-idle');
    return [firstLoad, afterIdle];
  } finally {
    try {
      for (const worker of workers) worker.shutdown();
      await Promise.all(runs);
    } finally {
      await Promise.all(connections.map((connection) => connection.close()));
    }
  }
}

/** The results as a Markdown table, one row per load. */
export function formatLimiterTable(results: readonly LimiterResult[]): string {
  const header = [
    'partitions',
    'limit set on',
    'workers',
    'rate/s',
    'window',
    'allowed',
    'phase',
    'N',
    `at once (≤${INSTANT_MS} ms)`,
    'first 1 s',
    'first window',
    'max in any window',
    'over',
    'sustained/s',
  ];
  const rows = results.map((r) => [
    String(r.partitions),
    r.limiter === 'server' ? 'server (TQ rps)' : 'worker (maxAPS)',
    String(r.workers),
    String(r.rate),
    `${r.windowSeconds} s`,
    String(r.allowedPerWindow),
    r.phase,
    String(r.activities),
    String(r.instantBurst),
    String(r.firstSecond),
    String(r.firstWindow),
    String(r.maxInWindow),
    r.overflow > 0 ? `+${r.overflow}` : '0',
    r.sustainedRate === undefined ? '-' : r.sustainedRate.toFixed(2),
  ]);
  return [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  // The raw start offsets, for a look beyond the table's figures.
  const jsonIndex = args.indexOf('--json');
  const jsonFile = jsonIndex >= 0 ? args[jsonIndex + 1] : undefined;
  if (jsonIndex >= 0 && !jsonFile) throw new Error('--json needs a file name');
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const cli = await ensureTemporalCli({ log });
  log(`limiter: ${await temporalCliVersion(cli.path)}; node ${process.version}; ${cpus().length} CPUs`);
  const started = Date.now();
  const results = await measureLimiter({ quick, cliPath: cli.path, log });
  process.stdout.write(`${formatLimiterTable(results)}\n`);
  if (jsonFile) {
    await mkdir(dirname(jsonFile), { recursive: true });
    await writeFile(jsonFile, `${JSON.stringify(results, null, 2)}\n`);
  }
  log(`limiter: done in ${Math.round((Date.now() - started) / 1000)} s`);
}

function runDirectly(): boolean {
  const script = process.argv[1];
  return script !== undefined && import.meta.url === pathToFileURL(realpathSync(script)).href;
}

if (runDirectly()) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
