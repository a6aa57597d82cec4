import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensureTemporalCli } from '../../tools/temporal/cli-build.js';
import { testTemporal } from './temporal.js';

/** The repository root: the leadsync CLI runs from its sources there, as `npm run leadsync` does. */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Ran {
  /** The exit code; null when a signal ended the process. */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end and hands back what it printed, failing or not: tests assert on both. */
export function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: REPO_ROOT, env, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `leadsync <args>` against the test server, with whatever else (credentials, config) `env` adds. */
export function leadsync(args: string[], env: Record<string, string> = {}): Promise<Ran> {
  const { address, namespace } = testTemporal();
  return run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    ...process.env,
    ...env,
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: namespace,
  });
}

/** `temporal <args>` (the pinned CLI) against the test server. */
export async function temporal(args: string[]): Promise<Ran> {
  const { address, namespace } = testTemporal();
  const cli = await ensureTemporalCli();
  return run(cli.path, [...args, '--address', address, '--namespace', namespace]);
}

/** Like temporal(), for commands expected to succeed with `-o json`: their output, parsed. */
export async function temporalJson<T>(args: string[]): Promise<T> {
  const ran = await temporal([...args, '--output', 'json']);
  if (ran.code !== 0) throw new Error(`temporal ${args.join(' ')} exited ${ran.code}: ${ran.stderr || ran.stdout}`);
  return JSON.parse(ran.stdout) as T;
}

/** Polls `read` until `done` holds of what it returned, and returns that; fails with the last value seen. */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  { timeoutMs = 60_000, intervalMs = 250 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
