// Measures Temporal's per-fairness-key rate limit on one shared activity queue of the dev server's default 4
// partitions: `npx tsx bench/fairness/measure.ts [--seconds N] [--port P]`. Findings: docs/scale-fairness.md.
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { ensureTemporalCli, temporalCliVersion } from '../../src/temporal/cli-build.js';
import { startDevServer } from '../../src/temporal/dev-server.js';
import { run } from '../../src/temporal/go-build.js';
import * as activities from './activities.js';
import { fairnessBacklog, fairnessProbe, type FairnessKeyLoad } from './workflows.js';

/** The per-key limit of a weight-1 key: LeadSquared's bulk lane, 1 call per 5 s. */
const KEY_RATE_DEFAULT = 0.2;
/** The vendor's window the limit stands for: what a vendor counting this way would see. */
const WINDOW_MS = 5_000;
const WORKFLOW_QUEUE = 'fairness-bench-workflows';
const ACTIVITY_QUEUE = 'fairness-bench-chunks';
const POLLERS_SETTLE_MS = 3_000;
const PROBE_EVERY_MS = 2_000;

interface KeyPlan {
  load: FairnessKeyLoad;
  /** Activities scheduled at once (a backlog), or one at a time (a probe far below its limit). */
  shape: 'backlog' | 'probe';
  count: number;
}

const KEYS: readonly KeyPlan[] = [
  // Weight 1: the default limit itself, a bulk lane.
  { load: { fairnessKey: 'acct-a/bulk', fairnessWeight: 1 }, shape: 'backlog', count: 40 },
  // Weight 5: 1/s, a general lane of another account.
  { load: { fairnessKey: 'acct-b/general', fairnessWeight: 5 }, shape: 'backlog', count: 100 },
  // Weight 20: 4/s, 1/s on each of 4 partitions, against one task per 2 s: never at its own limit, so its queue time
  // shows only what other keys hold up.
  { load: { fairnessKey: 'acct-c/general', fairnessWeight: 20 }, shape: 'probe', count: 60 },
];

/** The server settings measured: 1.29.1's defaults, the new matcher, and the new matcher with fairness on. */
const MODES: readonly { name: string; dynamicConfig: Record<string, boolean> }[] = [
  { name: 'defaults', dynamicConfig: {} },
  // 1.31's default: priority order, then FIFO; the per-key limit applies, weights do not order keys.
  { name: 'useNewMatcher', dynamicConfig: { 'matching.useNewMatcher': true } },
  {
    name: 'useNewMatcher+enableFairness',
    dynamicConfig: { 'matching.useNewMatcher': true, 'matching.enableFairness': true },
  },
];

interface KeyFigures {
  mode: string;
  key: string;
  shape: KeyPlan['shape'];
  /** The key's limit: the default times its weight, over the whole queue. */
  limit: number;
  dispatched: number;
  /** Seconds from the workflows' start to the key's first activity start, from which the figures below count. */
  firstStartS: number;
  firstSecond: number;
  /** Most starts in any WINDOW_MS, against limit x WINDOW_MS allowed. */
  maxInWindow: number;
  /** Starts per second from the key's first window's end to the end of the measurement. */
  sustained: number;
  queuedMedianMs: number;
  queuedMaxMs: number;
}

async function measureMode(
  mode: (typeof MODES)[number],
  seconds: number,
  port: number,
  cliPath: string,
  log: (line: string) => void,
): Promise<KeyFigures[]> {
  const server = await startDevServer({ cliPath, port, headless: true, dynamicConfig: mode.dynamicConfig });
  let nativeConnection: NativeConnection | undefined;
  let connection: Connection | undefined;
  try {
    nativeConnection = await NativeConnection.connect({ address: server.address });
    connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection, namespace: server.namespace });
    const config = [
      ...['task-queue', 'config', 'set', '--address', server.address, '--namespace', server.namespace],
      ...['--task-queue', ACTIVITY_QUEUE, '--task-queue-type', 'activity'],
      ...['--fairness-key-rps-limit-default', String(KEY_RATE_DEFAULT), '--fairness-key-rps-limit-reason', 'bench'],
    ];
    log(`fairness: ${mode.name}: temporal ${config.join(' ')}`);
    await run(cliPath, config, process.env, 'quiet');
    const workflowWorker = await Worker.create({
      connection: nativeConnection,
      namespace: server.namespace,
      taskQueue: WORKFLOW_QUEUE,
      workflowBundle: await bundleWorkflowCode({
        workflowsPath: fileURLToPath(new URL('./workflows.ts', import.meta.url)),
        logger: new DefaultLogger('WARN'),
      }),
    });
    const activityWorker = await Worker.create({
      connection: nativeConnection,
      namespace: server.namespace,
      taskQueue: ACTIVITY_QUEUE,
      activities,
    });
    const measured = async (): Promise<number> => {
      await sleep(POLLERS_SETTLE_MS);
      activities.dispatches.length = 0;
      const started = Date.now();
      const handles = await Promise.all(
        KEYS.map((plan, index) =>
          plan.shape === 'backlog'
            ? client.workflow.start(fairnessBacklog, {
                taskQueue: WORKFLOW_QUEUE,
                workflowId: `fairness-${index}`,
                args: [ACTIVITY_QUEUE, plan.load, plan.count],
              })
            : client.workflow.start(fairnessProbe, {
                taskQueue: WORKFLOW_QUEUE,
                workflowId: `fairness-${index}`,
                args: [ACTIVITY_QUEUE, plan.load, plan.count, PROBE_EVERY_MS],
              }),
        ),
      );
      await sleep(seconds * 1_000);
      // What is still queued after the measurement is of no interest: end it, so the workers can stop.
      await Promise.all(handles.map((handle) => handle.terminate('measured').catch(() => undefined)));
      return started;
    };
    const started = await workflowWorker.runUntil(activityWorker.runUntil(measured));
    return KEYS.map((plan) => keyFigures(mode.name, plan, started, seconds));
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

function keyFigures(mode: string, plan: KeyPlan, startedMs: number, seconds: number): KeyFigures {
  const endMs = startedMs + seconds * 1_000;
  const own = activities.dispatches.filter((d) => d.key === plan.load.fairnessKey && d.startedMs < endMs);
  const starts = own.map((d) => d.startedMs).sort((a, b) => a - b);
  const queued = own.map((d) => d.queuedMs).sort((a, b) => a - b);
  // From the key's first start: the workflow's own start-up is no part of the limiter's burst.
  const first = starts[0] ?? endMs;
  const steadyFrom = first + WINDOW_MS;
  return {
    mode,
    key: plan.load.fairnessKey,
    shape: plan.shape,
    limit: KEY_RATE_DEFAULT * plan.load.fairnessWeight,
    dispatched: starts.length,
    firstStartS: (first - startedMs) / 1_000,
    firstSecond: starts.filter((t) => t < first + 1_000).length,
    maxInWindow: Math.max(0, ...starts.map((t) => starts.filter((u) => u >= t && u < t + WINDOW_MS).length)),
    sustained: endMs > steadyFrom ? starts.filter((t) => t >= steadyFrom).length / ((endMs - steadyFrom) / 1_000) : 0,
    queuedMedianMs: queued[Math.floor(queued.length / 2)] ?? 0,
    queuedMaxMs: queued.at(-1) ?? 0,
  };
}

function formatFairnessTable(results: readonly KeyFigures[]): string {
  const header = [
    'server settings',
    'fairness key',
    'limit/s',
    'started',
    'first start',
    'first 1 s',
    'max in 5 s (allowed)',
    'sustained/s',
    'queued p50 / max',
  ];
  const rows = results.map((r) => [
    r.mode,
    r.key,
    String(r.limit),
    String(r.dispatched),
    `${r.firstStartS.toFixed(1)} s`,
    String(r.firstSecond),
    r.shape === 'probe' ? `${r.maxInWindow} (probe)` : `${r.maxInWindow} (${(r.limit * WINDOW_MS) / 1_000})`,
    r.sustained.toFixed(2),
    `${(r.queuedMedianMs / 1_000).toFixed(1)} / ${(r.queuedMaxMs / 1_000).toFixed(1)} s`,
  ]);
  return [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

function numberArg(args: readonly string[], name: string, fallback: number): number {
  const index = args.indexOf(name);
  if (index < 0) return fallback;
  const value = Number(args[index + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} needs a positive number`);
  return value;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const seconds = numberArg(args, '--seconds', 60);
  const port = numberArg(args, '--port', 7299);
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const cli = await ensureTemporalCli({ log });
  log(`fairness: ${await temporalCliVersion(cli.path)}; ${seconds} s per server setting`);
  const results: KeyFigures[] = [];
  // One server at a time, on the same port: the machine is small.
  for (const mode of MODES) results.push(...(await measureMode(mode, seconds, port, cli.path, log)));
  process.stdout.write(`${formatFairnessTable(results)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
