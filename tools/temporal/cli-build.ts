import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../../src/core/errors.js';
import {
  acquireLock,
  findGo,
  isExecutable,
  leadsyncCacheDir,
  removeAbandonedBuilds,
  run,
  whichOnPath,
} from './go-build.js';

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
  return join(leadsyncCacheDir(env), `temporal-cli-${TEMPORAL_CLI_VERSION}`);
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

  const release = await acquireLock(join(cacheDir, '.build.lock'), 'the Temporal CLI', log);
  try {
    // Another process may have built it while we waited for the lock.
    if (await isExecutable(target)) return target;
    await removeAbandonedBuilds(cacheDir, '.build-');
    const go = await findGo(
      env,
      'the Temporal CLI',
      `; leadsync runs \`go install ${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}\`. Or put a \`temporal\` CLI on ` +
        `PATH, or set LEADSYNC_TEMPORAL_CLI to its path`,
    );
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
