import { closeSync, openSync, readSync } from 'node:fs';
import { appendFile, mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { RejectsOwner } from '../core/rejects-ref.js';
import type { VendorRecord } from '../vendors/types.js';
import { RejectsWriteError, syncRejectsDirectory } from './files.js';
import { FirstRowTable } from './first-row-table.js';
import type { Reject } from './types.js';

/** Syncs whose index a worker keeps in memory at once; an evicted one is read back from its log when next used. */
const CACHED_SYNCS = 8;

/** The log is read this much at a time, so a reader catching up on a million rows never holds them all at once. */
const READ_BYTES = 1 << 20;
const NEWLINE = 0x0a;

interface Cached {
  /** Email -> the first row (of the rows sent) that carries it. */
  first: FirstRowTable;
  /** How far into the log `first` has read: only what other workers appended since is read next time. */
  offset: number;
  /**
   * The read of the log under way, if any. Reads go one at a time: two from the same offset would each advance it by
   * what they read, and the next would start inside a line ("97<TAB>lead-197@..." read from its second digit).
   */
  reading: Promise<void>;
}

/**
 * The first row of each lead (by email) of a sync, so that one sync sends each lead once: a later row with the same
 * email is that row's reject, "duplicate of row N", and never overwrites the first (or is overwritten by a retried
 * older chunk). Chunks run out of order across lanes, so "first" is decided where rows pass in order: the scans, one
 * at a time, each recording the emails of the chunks it cuts before any of them is handed out.
 *
 * Kept out of the workflow (a million emails are no workflow state): an append-only log of `row<TAB>email<TAB>` lines
 * beside the run's rejects files, `<rejects directory>/<sync>/<run>/first-rows.log`, so every worker sharing the
 * rejects directory sees it, and each worker holds an in-memory map of the logs it uses, reading only what was
 * appended since, as hashes (FirstRowTable: about 30 bytes a lead). Retry-safe: a scan retried records the same rows again, and the smallest row of an email wins, so a
 * row is never a duplicate of itself. A sync that uses a closed sync's id again has a log of its own.
 */
export class FirstRowIndex {
  private readonly cache = new Map<string, Cached>();

  constructor(private readonly rejectsDirectory: string) {}

  /** Records the leads of a scanned chunk, in row order. */
  async record(owner: RejectsOwner, leads: readonly VendorRecord[]): Promise<void> {
    if (leads.length === 0) return;
    const cached = await this.load(owner);
    const fresh = leads.filter((lead) => cached.first.firstUpTo(lead.email, lead.row) === undefined);
    if (fresh.length === 0) return;
    const directory = syncRejectsDirectory(this.rejectsDirectory, owner);
    try {
      await mkdir(directory, { recursive: true });
      // One write per chunk, led by a newline, each line ended by a tab: a line torn by a worker killed mid-write
      // stays a line of its own, and lacks its end (the retried scan records its row again).
      await appendFile(join(directory, LOG), `\n${fresh.map((lead) => `${lead.row}\t${lead.email}\t`).join('\n')}\n`);
    } catch (err) {
      throw new RejectsWriteError(`the first rows of the sync's leads cannot be recorded in ${directory}`, err);
    }
  }

  /** Splits a chunk's leads into those to send and those a row before them already carries, as rejects. */
  async separate(
    owner: RejectsOwner,
    leads: readonly VendorRecord[],
    emailField: string,
  ): Promise<{ leads: VendorRecord[]; duplicates: Reject[] }> {
    const cached = await this.load(owner);
    const kept: VendorRecord[] = [];
    const duplicates: Reject[] = [];
    for (const lead of leads) {
      const first = cached.first.firstUpTo(lead.email, lead.row);
      if (first !== undefined && first < lead.row) {
        duplicates.push({
          row: lead.row,
          field: emailField,
          reason: `duplicate of row ${first}: only the first row of a lead is sent in one sync`,
        });
      } else kept.push(lead);
    }
    return { leads: kept, duplicates };
  }

  /** The run's map, brought up to date with what the log holds now. */
  private async load(owner: RejectsOwner): Promise<Cached> {
    // Cached by the log's path: one per run of a sync id.
    const path = join(syncRejectsDirectory(this.rejectsDirectory, owner), LOG);
    let cached = this.cache.get(path);
    this.cache.delete(path);
    cached ??= { first: new FirstRowTable((offset) => emailAt(path, offset)), offset: 0, reading: Promise.resolve() };
    this.cache.set(path, cached);
    while (this.cache.size > CACHED_SYNCS) this.cache.delete(this.cache.keys().next().value!);
    const read = cached.reading.then(() => this.readAppended(path, cached));
    cached.reading = read.catch(() => undefined);
    await read;
    return cached;
  }

  /** Reads what was appended to the log at `path` since `cached.offset` into `cached.first`. */
  private async readAppended(path: string, cached: Cached): Promise<void> {
    const file = await open(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw new RejectsWriteError(`the first rows of the sync's leads cannot be read from ${path}`, err);
    });
    if (!file) {
      // Not written yet, or removed since: start over.
      cached.first.clear();
      cached.offset = 0;
      return;
    }
    try {
      const { size } = await file.stat();
      if (size < cached.offset) {
        cached.first.clear();
        cached.offset = 0;
      }
      let block = Buffer.alloc(Math.min(READ_BYTES, size - cached.offset));
      while (cached.offset < size) {
        const { bytesRead } = await file.read(block, 0, Math.min(block.length, size - cached.offset), cached.offset);
        // Only whole lines: a scan on another worker may be writing the next one.
        const complete = block.subarray(0, bytesRead).lastIndexOf(NEWLINE) + 1;
        if (complete === 0) {
          if (bytesRead < block.length) return;
          block = Buffer.alloc(block.length * 2);
          continue;
        }
        let start = 0;
        for (let end = block.indexOf(NEWLINE); end !== -1 && end < complete; end = block.indexOf(NEWLINE, start)) {
          const line = parseLine(block.toString('utf8', start, end));
          if (line) cached.first.offer(line.email, line.row, cached.offset + start);
          start = end + 1;
        }
        cached.offset += complete;
      }
    } finally {
      await file.close();
    }
  }
}

/** A whole line of the log, `row<TAB>email<TAB>`; undefined for a line torn by a worker killed mid-write. */
function parseLine(line: string): { row: number; email: string } | undefined {
  const tab = line.indexOf('\t');
  const row = Number(line.slice(0, tab));
  if (tab <= 0 || !Number.isInteger(row) || row < 1 || !line.endsWith('\t') || line.length < tab + 3) return;
  return { row, email: line.slice(tab + 1, -1) };
}

/**
 * The email of the line at `offset` of the log at `path`, read back when two emails share a hash. Synchronous: it is
 * rare (a duplicate, or a shared hash), and the page it reads was read or written moments before.
 */
function emailAt(path: string, offset: number): string | undefined {
  try {
    const fd = openSync(path, 'r');
    try {
      for (let length = 512; ; length *= 4) {
        const buffer = Buffer.alloc(length);
        const read = readSync(fd, buffer, 0, length, offset);
        const end = buffer.subarray(0, read).indexOf(NEWLINE);
        if (end !== -1 || read < length) return parseLine(buffer.toString('utf8', 0, end === -1 ? read : end))?.email;
      }
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw new RejectsWriteError(`the first rows of the sync's leads cannot be read from ${path}`, err);
  }
}

const LOG = 'first-rows.log';
