import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, mkdtemp, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { homedir, hostname } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '../config/errors.js';

/**
 * The pinned Temporal CLI. v1.5.1 is the newest tag `go install` accepts (v1.6.0 adds a replace directive to
 * its go.mod) and embeds server 1.29.1: the first with `temporal task-queue config set --queue-rps-limit`.
 */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
/** The server a CLI built from the pinned tag embeds; `temporal --version` says so. */
export const TEMPORAL_SERVER_VERSION = '1.29.1';

export type TemporalCliSource = 'env' | 'path' | 'cache' | 'built';

export interface TemporalCli {
  path: string;
  source: TemporalCliSource;
}

export interface CliLookupOptions {
  env?: NodeJS.ProcessEnv;
  /** Where progress of a first-time build goes; stderr by default. */
  log?: (line: string) => void;
}

/** `<XDG_CACHE_HOME or ~/.cache>/leadsync/temporal-cli-v1.5.1`: outside the repo, shared by every clone. */
export function temporalCliCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const cacheHome = env.XDG_CACHE_HOME?.trim() ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(cacheHome, 'leadsync', `temporal-cli-${TEMPORAL_CLI_VERSION}`);
}

export function cachedTemporalCliPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(temporalCliCacheDir(env), 'temporal');
}

/**
 * Finds a Temporal CLI without building one: LEADSYNC_TEMPORAL_CLI, then `temporal` on PATH, then the cache.
 * A binary named by LEADSYNC_TEMPORAL_CLI that is not there is an error, not a reason to look elsewhere.
 */
export async function findTemporalCli(env: NodeJS.ProcessEnv = process.env): Promise<TemporalCli | undefined> {
  const named = env.LEADSYNC_TEMPORAL_CLI?.trim();
  if (named) {
    if (!(await isExecutable(named))) {
      throw new ConfigError(`LEADSYNC_TEMPORAL_CLI=${named} is not an executable file; fix or unset it`);
    }
    return { path: named, source: 'env' };
  }
  const onPath = await whichOnPath('temporal', env);
  if (onPath) return { path: onPath, source: 'path' };
  const cached = cachedTemporalCliPath(env);
  if (await isExecutable(cached)) return { path: cached, source: 'cache' };
  return undefined;
}

/** Finds the Temporal CLI, building the pinned version into the cache with `go install` when there is none. */
export async function ensureTemporalCli(options: CliLookupOptions = {}): Promise<TemporalCli> {
  const env = options.env ?? process.env;
  const found = await findTemporalCli(env);
  if (found) return found;
  return { path: await buildTemporalCli(options), source: 'built' };
}

/**
 * Builds the pinned CLI into the cache. Holds a lock file so parallel processes build once, and installs into a
 * temporary directory beside the cache before a rename, so a killed build never leaves a half-written binary.
 */
export async function buildTemporalCli(options: CliLookupOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const cacheDir = temporalCliCacheDir(env);
  const target = join(cacheDir, 'temporal');
  await mkdir(cacheDir, { recursive: true });

  const release = await acquireLock(join(cacheDir, '.build.lock'), log);
  try {
    // Another process may have built it while we waited for the lock.
    if (await isExecutable(target)) return target;
    await removeAbandonedBuilds(cacheDir);
    const go = await findGo(env);
    log(
      `leadsync: building Temporal CLI ${TEMPORAL_CLI_VERSION} with \`go install ${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}\`` +
        ` into ${cacheDir}; this takes several minutes the first time (later runs reuse it)`,
    );
    const buildDir = await mkdtemp(join(cacheDir, '.build-'));
    try {
      const started = Date.now();
      await run(go, ['install', `${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`], {
        ...env,
        GOBIN: buildDir,
        // The CLI needs no cgo (its SQLite is pure Go); without it no C compiler is required.
        CGO_ENABLED: env.CGO_ENABLED ?? '0',
      });
      await rename(join(buildDir, 'temporal'), target);
      log(`leadsync: built ${target} in ${Math.round((Date.now() - started) / 1000)} s`);
    } finally {
      await rm(buildDir, { recursive: true, force: true });
    }
    return target;
  } finally {
    await release();
  }
}

/** `temporal --version` as printed, e.g. "temporal version 0.0.0-DEV (Server 1.29.1, UI 2.42.1)". */
export async function temporalCliVersion(cliPath: string): Promise<string> {
  return (await run(cliPath, ['--version'], process.env, 'pipe')).trim();
}

async function findGo(env: NodeJS.ProcessEnv): Promise<string> {
  // The official tarball installs to /usr/local/go, which non-login shells often leave off PATH.
  const go =
    (await whichOnPath('go', env)) ??
    ((await isExecutable('/usr/local/go/bin/go')) ? '/usr/local/go/bin/go' : undefined);
  if (!go) {
    throw new ConfigError(
      `the Temporal CLI is not installed and Go is not available to build it. Either install Go 1.21 or newer ` +
        `(https://go.dev/dl/, or your system's golang package; it fetches the Go 1.25 toolchain the CLI needs) so leadsync can run ` +
        `\`go install ${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}\`, or put a \`temporal\` CLI on PATH, ` +
        `or set LEADSYNC_TEMPORAL_CLI to its path`,
    );
  }
  return go;
}

async function whichOnPath(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  stdout: 'inherit' | 'pipe' = 'inherit',
): Promise<string> {
  return new Promise((resolve, reject) => {
    // Go's own progress and errors go straight to our stderr: on a failed build they are the explanation.
    const child = spawn(command, args, { env, stdio: ['ignore', stdout === 'pipe' ? 'pipe' : 'inherit', 'inherit'] });
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit code ${code}`})`));
    });
  });
}

const LOCK_POLL_MS = 500;
const LOCK_NOTICE_MS = 10_000;

/**
 * An exclusive-create lock file holding "pid@host". A holder that died (same host, pid gone) leaves a stale lock,
 * which the next process takes over; no timeout, since a legitimate first build can take many minutes.
 */
async function acquireLock(lockPath: string, log: (line: string) => void): Promise<() => Promise<void>> {
  const me = `${process.pid}@${hostname()}`;
  const waitingSince = Date.now();
  let noticed = false;
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(me);
      await handle.close();
      return async () => {
        await unlink(lockPath).catch(() => undefined);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = await readFile(lockPath, 'utf8').catch(() => '');
    if (holder && isStale(holder)) {
      await unlink(lockPath).catch(() => undefined);
      continue;
    }
    if (!noticed && Date.now() - waitingSince > LOCK_NOTICE_MS) {
      noticed = true;
      log(`leadsync: waiting for another process (${holder || 'unknown'}) to finish building the Temporal CLI`);
    }
    await sleep(LOCK_POLL_MS);
  }
}

function isStale(holder: string): boolean {
  const [pidText, host] = holder.trim().split('@');
  const pid = Number(pidText);
  if (host !== hostname() || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Temporary install directories of builds that were killed; only called while holding the lock. */
async function removeAbandonedBuilds(cacheDir: string): Promise<void> {
  for (const entry of await readdir(cacheDir)) {
    if (entry.startsWith('.build-')) await rm(join(cacheDir, entry), { recursive: true, force: true });
  }
}
