import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { z } from 'zod';
import type { RejectsSink } from './rejects-sink.js';

/**
 * A row that did not land: which row, which field (when one is to blame), and why, in the vendor's words if theirs.
 * No row: a number of rows the vendor refused without naming them (the reason says how many and why; see
 * `unattributedReject`), as guessing which would lose a good row or keep a bad one.
 */
export const RejectSchema = z.object({
  row: z.number().int().positive().optional(),
  field: z.string().optional(),
  reason: z.string(),
});
export type Reject = z.infer<typeof RejectSchema>;

/** The report's line for `count` rows of a chunk the vendor refused for `reason` without naming them. */
export function unattributedReject(count: number, reason: string): Reject {
  return { reason: `${count} row${count === 1 ? '' : 's'} refused by the vendor, not named: ${reason}` };
}

/** Rows the rejects name, each once however many fields it failed on. */
export function rejectedRows(rejects: readonly Reject[]): number {
  return new Set(rejects.flatMap((reject) => (reject.row === undefined ? [] : [reject.row]))).size;
}

/**
 * Rejects are written per chunk, to a file named for the chunk's first row: a retried chunk overwrites its own
 * file, so a row rejected on two attempts is reported once. The report merges them in row order at the end.
 */
export function syncRejectsDirectory(rejectsDirectory: string, syncId: string): string {
  return join(rejectsDirectory, safeFileName(syncId));
}

export async function writeChunkRejects(
  rejectsDirectory: string,
  syncId: string,
  firstRow: number,
  rejects: readonly Reject[],
): Promise<void> {
  const directory = syncRejectsDirectory(rejectsDirectory, syncId);
  const file = join(directory, `${firstRow}.ndjson`);
  if (rejects.length === 0) {
    // An earlier attempt may have rejected rows that this one landed.
    await rm(file, { force: true });
    return;
  }
  await mkdir(directory, { recursive: true });
  await writeFile(file, rejects.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

/**
 * Merges the chunk files into `<syncId>.rejects.csv` (row, field, reason; row empty on a chunk's line for rows the
 * vendor refused without naming them); undefined when nothing was rejected.
 */
export async function writeRejectsReport(rejectsDirectory: string, syncId: string): Promise<string | undefined> {
  const directory = syncRejectsDirectory(rejectsDirectory, syncId);
  const files = await readdir(directory).catch(() => [] as string[]);
  const chunks = files
    .filter((f) => /^\d+\.ndjson$/.test(f))
    .map((f) => Number(f.slice(0, -'.ndjson'.length)))
    .sort((a, b) => a - b);
  if (chunks.length === 0) return undefined;
  const report = rejectsReportPath(rejectsDirectory, syncId);
  const out = createWriteStream(report);
  out.write('row,field,reason\n');
  // One chunk file at a time: a million-row sync's rejects never sit in memory together.
  for (const firstRow of chunks) {
    const text = await readFile(join(directory, `${firstRow}.ndjson`), 'utf8');
    for (const line of text.split('\n')) {
      if (!line) continue;
      const reject = RejectSchema.parse(JSON.parse(line));
      if (!out.write(`${reject.row ?? ''},${csvField(reject.field ?? '')},${csvField(reject.reason)}\n`)) {
        await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      }
    }
  }
  out.end();
  await finished(out);
  return report;
}

/** Rejects as files on the worker's disk: the default sink, and the only one a dry run uses. */
export class FileRejectsSink implements RejectsSink {
  constructor(private readonly rejectsDirectory: string) {}

  /**
   * Clears what an earlier run of the same sync id left (its chunk files and report), as the table sink does; the
   * directory itself is made by the first chunk that rejects a row.
   */
  async prepare(syncId?: string): Promise<void> {
    if (syncId === undefined) return;
    await rm(syncRejectsDirectory(this.rejectsDirectory, syncId), { recursive: true, force: true });
    await rm(rejectsReportPath(this.rejectsDirectory, syncId), { force: true });
  }

  writeChunk(syncId: string, firstRow: number, rejects: readonly Reject[]): Promise<void> {
    return writeChunkRejects(this.rejectsDirectory, syncId, firstRow, rejects);
  }

  report(syncId: string): Promise<string | undefined> {
    return writeRejectsReport(this.rejectsDirectory, syncId);
  }

  async close(): Promise<void> {}
}

function rejectsReportPath(rejectsDirectory: string, syncId: string): string {
  return join(rejectsDirectory, `${safeFileName(syncId)}.rejects.csv`);
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function safeFileName(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, '_');
}
