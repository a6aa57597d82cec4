import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import { parse } from 'csv-parse';
import { ConfigError } from '../core/errors.js';
import { RunIdSchema, type RejectsOwner } from '../core/rejects-ref.js';
import { RejectSchema, type Reject, type RejectsSink } from './types.js';

/** The rejects report's columns, in order. */
export const REPORT_HEADER = ['row', 'field', 'reason', 'source_key'] as const;

/** File names stay well under the 255 bytes file systems allow, suffixes included. */
const MAX_NAME_BYTES = 160;

/**
 * A sync id as one file name: every byte but letters, digits, `-` and `_` percent-encoded (`.` and `%` too), so
 * `.` and `..` cannot be written and distinct ids never share a name (`acme/weekly` is `acme%2Fweekly`, `acme:weekly`
 * `acme%3Aweekly`). An id too long to keep whole keeps its start and adds a `~` and its SHA-256, a character the
 * encoding never writes.
 */
export function syncFileName(syncId: string): string {
  const encoded = [...Buffer.from(syncId, 'utf8')]
    .map((byte) =>
      /[A-Za-z0-9_-]/.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
  if (encoded.length <= MAX_NAME_BYTES) return encoded;
  return `${encoded.slice(0, MAX_NAME_BYTES - 65)}~${createHash('sha256').update(syncId).digest('hex')}`;
}

/**
 * Rejects are written per chunk, to a file named for the chunk's first row: a retried chunk overwrites its own
 * file, so a row rejected on two attempts is reported once. The report merges them in row order at the end. Each
 * run of a sync id has a directory of its own under the sync's (`<sync>/<run>/`), so a sync that uses a closed
 * sync's id again never touches its rejects; a sync prepared before runs were kept apart uses `<sync>/` itself.
 */
export function syncRejectsDirectory(rejectsDirectory: string, owner: RejectsOwner): string {
  const sync = within(rejectsDirectory, syncFileName(owner.syncId));
  return owner.runId === undefined ? sync : within(sync, syncFileName(owner.runId));
}

/**
 * `<sync>.<run>.rejects.csv` beside the other syncs' reports (`<sync>.rejects.csv` for a sync prepared before runs
 * were kept apart). Neither name can be another's: the encoding of an id never writes a `.`.
 */
export function rejectsReportPath(rejectsDirectory: string, owner: RejectsOwner): string {
  const run = owner.runId === undefined ? '' : `.${syncFileName(owner.runId)}`;
  return within(rejectsDirectory, `${syncFileName(owner.syncId)}${run}${REPORT_SUFFIX}`);
}

/** The run a report is named for (`<sync>.<run>.rejects.csv`); undefined for a report of a sync before runs. */
export function reportRunId(report: string): string | undefined {
  const name = basename(report);
  if (!name.endsWith(REPORT_SUFFIX)) return undefined;
  const parts = name.slice(0, -REPORT_SUFFIX.length).split('.');
  // The encoding of an id never writes a `.`, and a run id is only letters, digits and `-`: kept as it is.
  return parts.length === 2 && RunIdSchema.safeParse(parts[1]).success ? parts[1] : undefined;
}

const REPORT_SUFFIX = '.rejects.csv';

/** A name joined to a directory, proven to stay inside it whatever the name. */
export function within(directory: string, name: string): string {
  const root = resolve(directory);
  const path = resolve(root, name);
  if (dirname(path) !== root) throw new ConfigError(`rejects file name ${JSON.stringify(name)} leaves ${root}`);
  return path;
}

/**
 * Writes a file whole or not at all: a temporary file beside it, renamed over it. A reader (the report) never sees
 * half a chunk's rejects, and a worker killed mid-write leaves the earlier attempt's file as it was.
 */
export async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, text);
    await rename(temporary, path);
  } catch (err) {
    await rm(temporary, { force: true });
    throw err;
  }
}

/**
 * A rejects file that cannot be written: the disk is full, or the directory is not writable. Not retried: a retry
 * would send the chunk's calls again and fail the same way. The message says what to fix.
 */
export class RejectsWriteError extends ConfigError {
  constructor(what: string, err: unknown) {
    const cause = err as NodeJS.ErrnoException;
    super(
      `${what}: ${cause.code ?? 'error'}: ${cause.message ?? String(err)}; free space or make the rejects directory ` +
        'writable (rejects.directory in the config), then start the sync again (a resent row is an upsert)',
    );
  }
}

export async function writeChunkRejects(
  rejectsDirectory: string,
  owner: RejectsOwner,
  firstRow: number,
  rejects: readonly Reject[],
): Promise<void> {
  const directory = syncRejectsDirectory(rejectsDirectory, owner);
  // The chunk's first row names its file: only a whole number, whatever a forged chunk carries.
  if (!Number.isSafeInteger(firstRow) || firstRow < 1) {
    throw new ConfigError(`the chunk's first row ${JSON.stringify(firstRow)} is not a row number`);
  }
  const file = join(directory, `${firstRow}.ndjson`);
  try {
    if (rejects.length === 0) {
      // An earlier attempt may have rejected rows that this one landed.
      await rm(file, { force: true });
      return;
    }
    await mkdir(directory, { recursive: true });
    await writeAtomically(file, rejects.map((r) => JSON.stringify(r)).join('\n') + '\n');
  } catch (err) {
    throw new RejectsWriteError(`the rejects of the chunk at row ${firstRow} cannot be written to ${directory}`, err);
  }
}

/**
 * Merges the chunk files of a run into its report (row, field, reason, source_key; row empty on a chunk's line for
 * rows the vendor refused without naming them, source_key for rows of a source without keys: a file's), and says where
 * it is; undefined when nothing was rejected.
 */
export async function writeRejectsReport(rejectsDirectory: string, owner: RejectsOwner): Promise<string | undefined> {
  const directory = syncRejectsDirectory(rejectsDirectory, owner);
  const files = await readdir(directory).catch(() => [] as string[]);
  const chunks = files
    .filter((f) => /^\d+\.ndjson$/.test(f))
    .map((f) => Number(f.slice(0, -'.ndjson'.length)))
    .sort((a, b) => a - b);
  if (chunks.length === 0) return undefined;
  const report = rejectsReportPath(rejectsDirectory, owner);
  const temporary = `${report}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const out = createWriteStream(temporary);
    out.write(`${REPORT_HEADER.join(',')}\n`);
    // One chunk file at a time: a million-row sync's rejects never sit in memory together.
    for (const firstRow of chunks) {
      const text = await readFile(join(directory, `${firstRow}.ndjson`), 'utf8');
      for (const line of text.split('\n')) {
        if (!line) continue;
        const reject = RejectSchema.parse(JSON.parse(line));
        const cells = [String(reject.row ?? ''), reject.field ?? '', reject.reason, reject.key ?? ''];
        if (!out.write(`${cells.map(csvField).join(',')}\n`)) {
          await new Promise<void>((resolveDrain) => out.once('drain', () => resolveDrain()));
        }
      }
    }
    out.end();
    await finished(out);
    await rename(temporary, report);
  } catch (err) {
    await rm(temporary, { force: true });
    throw new RejectsWriteError(`the rejects report ${report} cannot be written`, err);
  }
  return report;
}

/** Rejects as files on the worker's disk: the default sink, and the only one a dry run uses. */
export class FileRejectsSink implements RejectsSink {
  constructor(private readonly rejectsDirectory: string) {}

  /**
   * Creates the rejects directory and proves it writable (a file written, renamed and removed), before any vendor
   * call. Nothing is cleared: a new run's rejects go to a directory of its own, and an earlier run's stay as they were.
   */
  async prepare(): Promise<void> {
    const probe = join(resolve(this.rejectsDirectory), `.probe-${randomBytes(6).toString('hex')}`);
    try {
      await mkdir(this.rejectsDirectory, { recursive: true });
      await writeAtomically(probe, 'leadsync can write here\n');
      await rm(probe);
    } catch (err) {
      throw new RejectsWriteError(`the rejects directory ${resolve(this.rejectsDirectory)} is not writable`, err);
    }
  }

  writeChunk(owner: RejectsOwner, firstRow: number, rejects: readonly Reject[]): Promise<void> {
    return writeChunkRejects(this.rejectsDirectory, owner, firstRow, rejects);
  }

  report(owner: RejectsOwner): Promise<string | undefined> {
    return writeRejectsReport(this.rejectsDirectory, owner);
  }

  read(owner: RejectsOwner): AsyncIterable<Reject> {
    return readRejectsReport(rejectsReportPath(this.rejectsDirectory, owner));
  }

  async close(): Promise<void> {}
}

/**
 * The lines of a rejects report, streamed. A report written before source keys were kept has three columns; a line
 * that is not a reject (a report edited by hand) fails naming its line.
 */
export async function* readRejectsReport(report: string): AsyncGenerator<Reject> {
  const file = await open(report).catch((err: NodeJS.ErrnoException) => {
    throw new ConfigError(`the rejects report ${report} cannot be read: ${err.code ?? err.message}`);
  });
  const parser = file.createReadStream().pipe(parse({ from_line: 2, relax_column_count: true }));
  let line = 1;
  try {
    for await (const cells of parser as AsyncIterable<string[]>) {
      line++;
      const [row = '', field = '', reason = '', key = ''] = cells;
      const reject = RejectSchema.safeParse({
        ...(row ? { row: Number(row) } : {}),
        ...(field ? { field } : {}),
        reason,
        ...(key ? { key } : {}),
      });
      if (!reject.success) throw new ConfigError(`the rejects report ${report}, line ${line}: not a reject`);
      yield reject.data;
    }
  } finally {
    parser.destroy();
    await file.close();
  }
}

export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
