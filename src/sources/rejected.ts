// The rows a finished sync rejected, read again from the source they came from: what `leadsync rejects retry` syncs.
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import type { RejectedRef } from '../core/rejected-ref.js';
import { rejectedRef, type ReadSourceRef } from '../core/source-registry.js';
import { START, type ChunkRange, type Cursor, type FilePin } from '../core/source-refs.js';
import { pinChanges } from './source-file.js';
import type { RejectedRow, RejectedRows, SourceKind, SourceKinds } from './source-kind.js';
import type { ScanResult, Source, SourceRow } from './source.js';

/** Where a chunk of rejected rows starts or ends: the row's number, and its place in the file (null for a table). */
const PlaceSchema = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not a JSON pair' });
      return z.NEVER;
    }
  })
  .pipe(z.tuple([z.number().int().nonnegative(), z.union([z.number(), z.string(), z.null()])]));
type Place = z.infer<typeof PlaceSchema>;

/**
 * The rejected rows of a sync as a source: each keeps its number in the original source, so their rejects (rows still
 * bad) name the same rows. A table's rows are found by their keys (its row numbers move as it changes), and a row that
 * left the table since is an unreadable row saying so. A file's rows are found by number in the file as the sync read
 * it: the scan cuts the file up to each chunk's last row once, in order, and a chunk reads only its byte range.
 */
export class RejectedSource implements Source {
  readonly pin?: () => Promise<FilePin>;

  constructor(
    private readonly ref: RejectedRef<ReadSourceRef>,
    private readonly inner: Source,
    private readonly rejected: RejectedRows,
  ) {
    if (inner.pin) this.pin = () => inner.pin!();
  }

  private get keyed(): boolean {
    return this.inner.readKeys !== undefined;
  }

  columns(): Promise<string[]> {
    return this.inner.columns();
  }

  countRows(): Promise<number> {
    return this.rejected.count();
  }

  async scan(cursor: Cursor, sizes: readonly number[]): Promise<ScanResult> {
    const [after, innerPosition] = cursor.position === null ? [0, START.position] : this.decode(cursor.position);
    const wanted = sizes.reduce((sum, size) => sum + size, 0);
    const next = await this.rejected.after(after, wanted + 1);
    let inner: Cursor = { position: innerPosition, nextRow: after + 1 };
    const chunks: ChunkRange[] = [];
    let taken = 0;
    let nextRow = cursor.nextRow;
    let position = cursor.position;
    for (const size of sizes) {
      const rows = next.slice(taken, Math.min(taken + size, wanted));
      if (rows.length === 0) break;
      taken += rows.length;
      const first = rows[0]!.row;
      const last = rows.at(-1)!.row;
      let span: { from: Place[1]; to: Place[1] } = { from: null, to: null };
      if (!this.keyed) {
        // The file cut up to the chunk's last row: the rows before its first skipped, then its span of rows.
        const skip = first - inner.nextRow;
        const scanned = await this.inner.scan(inner, skip > 0 ? [skip, last - first + 1] : [last - first + 1]);
        const cut = scanned.chunks.at(-1);
        if (!cut || cut.firstRow !== first || cut.rows !== last - first + 1) {
          throw new ConfigError(
            `${this.label()}: the file ends before row ${last}, which the sync rejected: it is not the file the sync read`,
          );
        }
        inner = scanned.cursor;
        span = { from: cut.from, to: cut.to };
      }
      chunks.push({
        from: JSON.stringify([first, span.from]),
        to: JSON.stringify([last, span.to]),
        firstRow: nextRow,
        rows: rows.length,
      });
      nextRow += rows.length;
      position = JSON.stringify([last, inner.position]);
    }
    return { chunks, cursor: { position, nextRow }, done: next.length <= wanted };
  }

  async *read(range: ChunkRange): AsyncIterable<SourceRow> {
    const [first, from] = this.decode(range.from);
    const [last, to] = this.decode(range.to);
    const rows = (await this.rejected.after(first - 1, range.rows)).filter((rejected) => rejected.row <= last);
    if (this.keyed) {
      yield* this.readByKey(rows);
      return;
    }
    const wanted = new Set(rows.map((rejected) => rejected.row));
    const span = { from: from!, to: to!, firstRow: first, rows: last - first + 1 };
    for await (const row of this.inner.read(span)) if (wanted.has(row.row)) yield row;
  }

  private async *readByKey(rows: readonly RejectedRow[]): AsyncIterable<SourceRow> {
    const keys = rows.flatMap((rejected) => (rejected.key === undefined ? [] : [rejected.key]));
    const found = new Map<string, Record<string, string>>();
    for await (const read of this.inner.readKeys!(keys, 1)) {
      if ('values' in read && read.key !== undefined) found.set(read.key, read.values);
    }
    for (const { row, key } of rows) {
      if (key === undefined) {
        yield { row, unreadable: 'its rejects kept no source key (rejected before keys were kept): sync it anew' };
        continue;
      }
      const values = found.get(key);
      yield values ? { row, values, key } : { row, unreadable: `the row with key ${key} is no longer in the table` };
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.inner.close?.(), this.rejected.close()]);
  }

  private label(): string {
    return rejectedRef.describe(this.ref).label;
  }

  private decode(position: string | number): Place {
    const parsed = PlaceSchema.safeParse(position);
    if (!parsed.success) {
      throw new ConfigError(`${this.label()}: position ${JSON.stringify(position)} is not a [row, place] pair`);
    }
    return parsed.data;
  }
}

/**
 * The rejected rows of a sync, in the source it read (opened by its own kind, inside the same boundary), from where
 * the worker's config keeps rejects. A file must still be the version the sync read: its row numbers would name other
 * rows in another.
 */
export function rejectedKind(inner: SourceKinds<ReadSourceRef>) {
  return {
    ...rejectedRef,
    open: async (ref, context) => {
      if (!context.rejectedRows) throw new ConfigError('this worker cannot read the rejects of earlier syncs');
      const source = await inner.open(ref.source, context);
      try {
        await assertSameFile(ref, source);
        return new RejectedSource(ref, source, context.rejectedRows(ref.of));
      } catch (err) {
        await source.close?.();
        throw err;
      }
    },
    anchor: (ref) => ({ ...ref, source: inner.anchor(ref.source) }),
  } satisfies SourceKind<RejectedRef<ReadSourceRef>>;
}

/** A file's rejected rows are found by number: only in the version of the file the sync read. */
async function assertSameFile(ref: RejectedRef<ReadSourceRef>, source: Source): Promise<void> {
  if (!source.pin) return;
  const file = 'path' in ref.source ? ref.source.path : rejectedRef.describe(ref).label;
  const changes = ref.pin ? pinChanges(ref.pin, await source.pin()) : ['the sync kept no pin of it'];
  if (changes.length > 0) {
    throw new ConfigError(
      `source file ${file} changed since sync ${ref.of.syncId} read it (${changes.join(', ')}): the row numbers of ` +
        'its rejects would name other rows now; fix the rows in the file and sync it anew instead',
    );
  }
}
