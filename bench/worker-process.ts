import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { COMPILED_CLI, ensureBuilt, PACKAGE_ROOT } from '../bin/compiled-tree.js';
import type { TemporalEndpoint } from '../tools/temporal/dev-server.js';

export interface WorkerProcess {
  pid: number;
  /** From spawning the process to its start line. */
  startSeconds: number;
  /** What it logged up to its start line, that line included. */
  startLines: string[];
  stop(): Promise<void>;
}

export interface WorkerProcessOptions {
  /** Node's own options for the worker (a heap limit), before the script. */
  nodeOptions?: readonly string[];
  /** Whether the lines logged so far (the last one new) say the worker started; the "task queues" line by default. */
  started?: (lines: readonly string[]) => boolean;
}

/**
 * The compiled CLI, as the Dockerfile runs it, built first when dist/ is missing or older than the sources (the rule of
 * bin/compiled-tree.js): the benches measure what a deployment runs, not tsx's loader beside it (about 34 MB).
 */
export function compiledCli(): string {
  const cli = ensureBuilt((reason) => process.stderr.write(`bench: building dist/ first (${reason})\n`));
  process.stderr.write(`bench: the worker runs the compiled CLI, node ${COMPILED_CLI}\n`);
  return cli;
}

/**
 * `leadsync worker` in a process of its own, compiled, as a user runs it (the Dockerfile's entry point): what the bench
 * then reads from /proc is the worker's memory alone, not the bench's client and polling beside it. Resolves once
 * every Worker is created (the "task queues" line, unless `started` says otherwise), just before they poll.
 */
export async function startWorkerProcess(
  endpoint: TemporalEndpoint,
  configPath: string,
  taskQueue: string,
  env: Record<string, string>,
  { nodeOptions = [], started = (lines) => lines.at(-1)!.includes('"task queues: ') }: WorkerProcessOptions = {},
): Promise<WorkerProcess> {
  const cli = compiledCli();
  const startedMs = Date.now();
  const child = spawn(
    process.execPath,
    [...nodeOptions, cli, 'worker', '--config', configPath, '--task-queue', taskQueue],
    {
      cwd: PACKAGE_ROOT,
      env: { ...process.env, ...env, TEMPORAL_ADDRESS: endpoint.address, TEMPORAL_NAMESPACE: endpoint.namespace },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const exited = once(child, 'exit');
  const lines = createInterface({ input: child.stderr! });
  const startLines: string[] = [];
  let isStarted = false;
  for await (const line of lines) {
    startLines.push(line);
    if (started(startLines)) {
      isStarted = true;
      break;
    }
  }
  const startSeconds = (Date.now() - startedMs) / 1000;
  if (!isStarted) throw new Error(`the worker ended before it started:\n${startLines.slice(-20).join('\n')}`);
  // Its warnings and errors still reach the bench's output; a full pipe would stall it mid-run.
  lines.on('line', (line) => {
    if (/"level":"(warn|error)"/.test(line)) process.stderr.write(`worker: ${line}\n`);
  });
  return {
    pid: child.pid!,
    startSeconds,
    startLines,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(30_000).then(() => child.kill('SIGKILL'))]);
    },
  };
}
