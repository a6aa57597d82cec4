import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TemporalEndpoint } from '../tools/temporal/dev-server.js';

const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface WorkerProcess {
  pid: number;
  stop(): Promise<void>;
}

/**
 * `leadsync worker` in a process of its own, as a user runs it (the Dockerfile's entry point): what the bench then
 * reads from /proc is the worker's memory alone, not the bench's client and polling beside it. Resolves once every
 * Worker is created (the "task queues" line), just before they poll.
 */
export async function startWorkerProcess(
  endpoint: TemporalEndpoint,
  configPath: string,
  taskQueue: string,
  env: Record<string, string>,
  /** Node's own options for the worker (a heap limit), before the script. */
  nodeOptions: readonly string[] = [],
): Promise<WorkerProcess> {
  const child = spawn(
    process.execPath,
    [
      ...nodeOptions,
      ...['--import', 'tsx', 'src/cli/main.ts', 'worker', '--config', configPath, '--task-queue', taskQueue],
    ],
    {
      cwd: PACKAGE_ROOT,
      env: { ...process.env, ...env, TEMPORAL_ADDRESS: endpoint.address, TEMPORAL_NAMESPACE: endpoint.namespace },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const exited = once(child, 'exit');
  const lines = createInterface({ input: child.stderr! });
  const last: string[] = [];
  let started = false;
  for await (const line of lines) {
    if (line.includes('"task queues: ')) {
      started = true;
      break;
    }
    last.push(line);
    if (last.length > 20) last.shift();
  }
  if (!started) throw new Error(`the worker ended before it started:\n${last.join('\n')}`);
  // Its warnings and errors still reach the bench's output; a full pipe would stall it mid-run.
  lines.on('line', (line) => {
    if (/"level":"(warn|error)"/.test(line)) process.stderr.write(`worker: ${line}\n`);
  });
  return {
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(30_000).then(() => child.kill('SIGKILL'))]);
    },
  };
}
