// The compiled tree (`npm run build`: dist/) and the rule for running it. bin/leadsync.js runs dist/ when it is
// there and built after the last change to the sources, and the TypeScript through tsx otherwise, saying on standard
// error why it does not run a dist/ it found: a stale build silently running old code would be worse than tsx's cost
// (about 34 MB of RSS and a slower start). Plain JavaScript, as it runs before anything is compiled.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = join(PACKAGE_ROOT, 'dist');
/** The CLI's entry point in each tree, relative to the package root. */
export const SOURCE_CLI = 'src/cli/main.ts';
export const COMPILED_CLI = 'dist/src/cli/main.js';

/** What the build compiles (tsconfig.build.json's include) and what it reads besides, this file (the build) included. */
const SOURCE_DIRECTORIES = ['src', 'workflows', 'activities', 'tools'];
const SOURCE_FILES = ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'bin/compiled-tree.js'];
/** Files tsc does not emit and the code loads by path beside its modules (the SDK require()s the keyed converters). */
const COPIED = ['src/temporal/keyed-converters.cjs'];

/** The source file changed last and its time, of the files a build reads. */
function newestSource(root) {
  let newest = { path: SOURCE_FILES[0], mtimeMs: 0 };
  const visit = (path) => {
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) return;
    if (stat.isDirectory()) {
      for (const entry of readdirSync(path)) visit(join(path, entry));
    } else if (stat.mtimeMs > newest.mtimeMs) {
      newest = { path, mtimeMs: stat.mtimeMs };
    }
  };
  for (const entry of [...SOURCE_DIRECTORIES, ...SOURCE_FILES]) visit(join(root, entry));
  return newest;
}

/**
 * Whether dist/ can run: `{ compiled: true }` when it was built after every source file changed (or the sources are
 * not there, as in the Docker image), else `{ compiled: false, reason }`, the reason naming what is missing or newer.
 */
export function compiledTreeState(root = PACKAGE_ROOT) {
  const built = statSync(join(root, COMPILED_CLI), { throwIfNoEntry: false });
  if (!built) return { compiled: false, reason: `${COMPILED_CLI} is not built` };
  if (!existsSync(join(root, SOURCE_CLI))) return { compiled: true };
  const newest = newestSource(root);
  if (newest.mtimeMs > built.mtimeMs) {
    return {
      compiled: false,
      stale: true,
      reason: `${relative(root, newest.path)} changed after the last \`npm run build\``,
    };
  }
  return { compiled: true };
}

/** `npm run build`: dist/ from scratch (no module of a deleted source left behind), then the files tsc does not emit. */
export function build() {
  rmSync(DIST, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: PACKAGE_ROOT,
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    // A half-built tree must not pass for a fresh one.
    rmSync(DIST, { recursive: true, force: true });
    throw new Error(`tsc -p tsconfig.build.json exited ${result.status}`);
  }
  for (const file of COPIED) copyFileSync(join(PACKAGE_ROOT, file), join(DIST, file));
}

/** The compiled CLI's path, built first unless it is fresh; `onBuild` hears why it builds, before it does. */
export function ensureBuilt(onBuild = () => {}) {
  const tree = compiledTreeState();
  if (!tree.compiled) {
    onBuild(tree.reason);
    build();
  }
  return join(PACKAGE_ROOT, COMPILED_CLI);
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === 'build') build();
