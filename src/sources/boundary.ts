import { constants } from 'node:fs';
import { lstat, open, readlink, realpath, stat, type FileHandle } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { ConfigError } from '../core/errors.js';

/**
 * What a sync may read, as the worker's config says: files under its roots, and per PostgreSQL connection the
 * tables listed. A workflow input comes from whoever can write to the namespace; it names a source, and the worker
 * opens it only inside this boundary. A refusal says what is allowed and never echoes anything of what was named.
 */
export interface SourceBoundary {
  /** The config file the boundary comes from, for messages. */
  configPath: string;
  /** Directories files may be read from (absolute); their real paths are taken when a file is checked. */
  fileRoots: readonly string[];
  /** Per connection name: `schema.table` or `schema.*` entries. */
  tables: Readonly<Record<string, readonly string[]>>;
}

/** An open source file: the descriptor every read of one activity goes through, and the real path it was found at. */
export interface AdmittedFile {
  handle: FileHandle;
  realPath: string;
}

/**
 * Opens a source file inside the boundary, once: every read of the activity goes through this descriptor, never
 * the path again. The path as given must lie under a root, and so must its real path (no escape through a symbolic
 * link or `..`), before anything but the roots is looked at; it must be a regular file (not a device, a FIFO that
 * would block, or a directory). The last name is opened without following a link, and the file opened is checked
 * again by its descriptor: a link or a directory swapped in between the check and the open is never read.
 */
export async function openSourceFile(path: string, boundary: SourceBoundary): Promise<AdmittedFile> {
  const given = resolve(path);
  if (!boundary.fileRoots.some((root) => inside(resolve(root), given) && !hidden(resolve(root), given))) {
    throw refused(boundary);
  }
  let real: string;
  try {
    real = await realpath(given);
  } catch {
    throw new ConfigError(`source file ${given} does not exist or cannot be read`);
  }
  await assertUnderRealRoots(real, boundary);
  const info = await stat(real).catch(() => undefined);
  if (!info?.isFile()) throw notRegular(given);
  let handle: FileHandle;
  try {
    // Non-blocking: a FIFO swapped in after the check does not hold the open until a writer comes.
    handle = await open(given, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ELOOP on Linux and macOS, EMLINK on FreeBSD: the last name is a link.
    if (code === 'ELOOP' || code === 'EMLINK') {
      throw new ConfigError(`source file ${given} is a symbolic link: name the file itself, under a root`);
    }
    throw new ConfigError(`source file ${given} does not exist or cannot be read`);
  }
  try {
    await assertUnderRealRoots(await openedPath(handle, real), boundary);
    if (!(await handle.stat()).isFile()) throw notRegular(given);
    return { handle, realPath: real };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/**
 * Where the file a descriptor holds is now. Linux names it (`/proc/self/fd`); elsewhere the real path found before
 * the open must still be that file (same device and inode).
 */
async function openedPath(handle: FileHandle, real: string): Promise<string> {
  const named = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => undefined);
  if (named !== undefined) return named;
  const [opened, there] = await Promise.all([handle.stat(), lstat(real).catch(() => undefined)]);
  if (there === undefined || opened.dev !== there.dev || opened.ino !== there.ino) {
    throw new ConfigError(`source file ${real} was replaced while it was opened: start the sync again`);
  }
  return real;
}

async function assertUnderRealRoots(real: string, boundary: SourceBoundary): Promise<void> {
  const realRoots = await Promise.all(boundary.fileRoots.map((root) => realpath(root).catch(() => undefined)));
  if (!realRoots.some((root) => root !== undefined && inside(root, real) && !hidden(root, real))) {
    throw refused(boundary);
  }
}

function refused(boundary: SourceBoundary): ConfigError {
  return new ConfigError(
    `source file refused: it is not under a directory this worker may read sources from ` +
      `(${boundary.fileRoots.join(', ') || 'none'}; sources.files.roots in ${boundary.configPath}), ` +
      'or its name or a directory on its way there starts with a dot',
  );
}

function notRegular(given: string): ConfigError {
  return new ConfigError(`source file ${given} is not a regular file`);
}

/**
 * Whether a path below a root passes through a hidden name (`.env`, `.git/`, `.ssh/`): never a source, even under a
 * root, since the default root is the config file's directory, where such files often sit.
 */
function hidden(root: string, path: string): boolean {
  return relative(root, path)
    .split(sep)
    .some((part) => part.startsWith('.'));
}

/** Whether `path` is `root` itself or below it (both absolute and normalised). */
export function inside(root: string, path: string): boolean {
  const rest = relative(root, path);
  return rest === '' || (rest !== '..' && !rest.startsWith(`..${sep}`) && !isAbsolute(rest));
}

/**
 * Whether a connection's list allows a table, by its schema and name as the catalog has them (exact case).
 * `schema.*` allows every table and view of the schema.
 */
export function tableAllowed(allowed: readonly string[], schema: string, table: string): boolean {
  return allowed.includes(`${schema}.${table}`) || allowed.includes(`${schema}.*`);
}

/** The refusal of a table outside a connection's list: what is allowed, and where to change it. */
export function tableRefused(boundary: SourceBoundary, connection: string): ConfigError {
  const allowed = Object.hasOwn(boundary.tables, connection) ? boundary.tables[connection]! : [];
  return new ConfigError(
    `PostgreSQL source refused: connection '${connection}' lets syncs read only ` +
      `${allowed.length ? allowed.join(', ') : 'no table'} (sources.postgres.${connection}.tables in ${boundary.configPath})`,
  );
}
