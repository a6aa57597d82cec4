import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, mkdtemp, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { homedir, hostname } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '../../src/core/errors.js';

/**
 * Go programs leadsync builds for itself with `go install` (the Temporal CLI, server, SQL tool and UI server), each
 * into a directory of `<XDG_CACHE_HOME or ~/.cache>/leadsync` named for its version: outside the repo, shared by every
 * clone on the machine, so the build cost is paid once.
 */
export function leadsyncCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const cacheHome = env.XDG_CACHE_HOME?.trim() ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(cacheHome, 'leadsync');
}

export interface GoBuildOptions {
  env?: NodeJS.ProcessEnv;
  /** Where progress of a first-time build goes; stderr by default. */
  log?: (line: string) => void;
}

export interface GoBuild {
  /** What the log calls it, e.g. "Temporal server 1.29.1". */
  title: string;
  /** The directory the build fills, under leadsyncCacheDir(); present only once complete. */
  directory: string;
  /** `module/path/cmd/x@version` arguments of one `go install`. */
  packages: string[];
  /** Binaries `go install` writes (named for their package's last element), renamed to the values. */
  binaries: Record<string, string>;
  /** Fills in whatever else the directory holds, from the Go module cache (e.g. the server's SQL schemas). */
  assemble?: (buildDir: string, go: string, env: NodeJS.ProcessEnv) => Promise<void>;
}

/**
 * The build's directory, building it first when it is not there. Holds a lock file so parallel processes build once,
 * and fills a temporary directory beside the final one before a rename, so a killed build never leaves half a tool.
 */
export async function ensureGoBuild(build: GoBuild, options: GoBuildOptions = {}): Promise<string> {
  if (await isDirectory(build.directory)) return build.directory;
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const parent = join(build.directory, '..');
  await mkdir(parent, { recursive: true });
  const name = build.directory.slice(parent.length + 1);
  const release = await acquireLock(join(parent, `.${name}.lock`), build.title, log);
  try {
    // Another process may have built it while we waited for the lock.
    if (await isDirectory(build.directory)) return build.directory;
    await removeAbandonedBuilds(parent, `.${name}.build-`);
    const go = await findGo(env, build.title);
    log(
      `leadsync: building ${build.title} with \`go install ${build.packages.join(' ')}\` into ${build.directory}; ` +
        `this takes a few minutes the first time (later runs reuse it)`,
    );
    const buildDir = await mkdtemp(join(parent, `.${name}.build-`));
    try {
      const started = Date.now();
      const bin = join(buildDir, '.bin');
      // Pure Go throughout (SQLite and PostgreSQL drivers included): no C compiler needed.
      await run(go, ['install', ...build.packages], { ...env, GOBIN: bin, CGO_ENABLED: env.CGO_ENABLED ?? '0' });
      for (const [built, named] of Object.entries(build.binaries))
        await rename(join(bin, built), join(buildDir, named));
      await rm(bin, { recursive: true, force: true });
      await build.assemble?.(buildDir, go, env);
      await rename(buildDir, build.directory);
      log(`leadsync: built ${build.title} into ${build.directory} in ${Math.round((Date.now() - started) / 1000)} s`);
    } finally {
      await rm(buildDir, { recursive: true, force: true });
    }
    return build.directory;
  } finally {
    await release();
  }
}

/** `go env <name>`, e.g. GOMODCACHE, where `go install` left the module's sources. */
export async function goEnv(go: string, name: string, env: NodeJS.ProcessEnv): Promise<string> {
  return (await run(go, ['env', name], env, 'pipe')).trim();
}

/** `otherwise` says what else the user can do instead of installing Go. */
export async function findGo(env: NodeJS.ProcessEnv, building: string, otherwise = ''): Promise<string> {
  // The official tarball installs to /usr/local/go, which non-login shells often leave off PATH.
  const go =
    (await whichOnPath('go', env)) ??
    ((await isExecutable('/usr/local/go/bin/go')) ? '/usr/local/go/bin/go' : undefined);
  if (!go) {
    throw new ConfigError(
      `${building} is not installed and Go is not available to build it. Install Go 1.21 or newer ` +
        `(https://go.dev/dl/, or your system's golang package; it fetches the Go 1.25 toolchain Temporal needs)` +
        otherwise,
    );
  }
  return go;
}

export async function whichOnPath(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

/**
 * Runs a program to its end. `inherit` shows its output as it goes (Go's build progress: on a failure it is the
 * explanation); `pipe` hands back its stdout; `quiet` keeps both to itself and puts their tail in the error.
 */
export function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  output: 'inherit' | 'pipe' | 'quiet' = 'inherit',
): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdout = output === 'inherit' ? 'inherit' : 'pipe';
    const stderr = output === 'quiet' ? 'pipe' : 'inherit';
    const child = spawn(command, args, { env, stdio: ['ignore', stdout, stderr] });
    let out = '';
    let said = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (said = (said + chunk).slice(-4_000)));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve(out);
      else {
        const tail = output === 'quiet' ? `:\n${(said + out).trim().split('\n').slice(-15).join('\n')}` : '';
        reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit code ${code}`})${tail}`));
      }
    });
  });
}

const LOCK_POLL_MS = 500;
const LOCK_NOTICE_MS = 10_000;

/**
 * An exclusive-create lock file holding "pid@host". A holder that died (same host, pid gone) leaves a stale lock,
 * which the next process takes over; no timeout, since a legitimate first build can take many minutes.
 */
export async function acquireLock(
  lockPath: string,
  building: string,
  log: (line: string) => void,
): Promise<() => Promise<void>> {
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
      log(`leadsync: waiting for another process (${holder || 'unknown'}) to finish building ${building}`);
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

/** Temporary directories of builds that were killed; only called while holding the lock. */
export async function removeAbandonedBuilds(dir: string, prefix: string): Promise<void> {
  for (const entry of await readdir(dir)) {
    if (entry.startsWith(prefix)) await rm(join(dir, entry), { recursive: true, force: true });
  }
}
