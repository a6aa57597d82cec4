import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { scanByteRanges } from './byte-ranges.js';
import { MAX_COLUMNS, MAX_ROW_BYTES } from './row-limits.js';
import { fileSourceKind, type SourceFile } from './source-file.js';
import type { ChunkRange, Cursor, FilePin } from '../core/source-refs.js';
import type { ScanResult, Source, SourceRow } from './source.js';
import { ndjsonRef } from '../core/file-refs.js';

/** How many rows `columns()` looks at: enough to see optional keys, few enough to answer at once. */
export const COLUMN_SAMPLE_ROWS = 1000;

const NEWLINE = 0x0a;

/** One non-blank line, or one too long to read (its bytes were counted, not kept). */
type Line = ({ text: string } | { tooLong: number }) & {
  /** Byte offset just past this line's newline: where the next line starts. */
  end: number;
};

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

const ScalarSchema = z
  .union([z.string(), z.number(), z.boolean(), z.null()], {
    error: (issue) => `is ${describe(issue.input)}; only strings, numbers, booleans and null can be read`,
  })
  // JSON.parse rounds integers past 2^53 silently: an ID or a phone number would arrive altered.
  .refine((v) => typeof v !== 'number' || !Number.isInteger(v) || Number.isSafeInteger(v), {
    message: 'is an integer too large to read exactly; write it as a string',
  });

const RecordSchema = z.record(z.string(), ScalarSchema, {
  error: (issue) => `expected a JSON object, found ${describe(issue.input)}`,
});

function tooLong(bytes: number): { unreadable: string } {
  return { unreadable: `the line is ${bytes} bytes, over the ${MAX_ROW_BYTES} a row may have` };
}

function toText(value: z.infer<typeof ScalarSchema>): string {
  return value === null ? '' : String(value);
}

/** One line's row: its values as strings, or why it cannot be read. Never throws. */
export function parseLine(text: string): { values: Record<string, string> } | { unreadable: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { unreadable: `not valid JSON: ${(err as Error).message}` };
  }
  // Counted before each field is checked: a line of 100,000 one-letter keys is one reject, not 100,000.
  const fields = typeof json === 'object' && json !== null ? Object.keys(json).length : 0;
  if (fields > MAX_COLUMNS)
    return { unreadable: `the row has ${fields} fields, over the ${MAX_COLUMNS} a row may have` };
  const parsed = RecordSchema.safeParse(json);
  if (!parsed.success) {
    const reasons = parsed.error.issues.map((issue) =>
      issue.path.length ? `field "${issue.path.join('.')}" ${issue.message}` : issue.message,
    );
    return { unreadable: reasons.join('; ') };
  }
  return { values: Object.fromEntries(Object.entries(parsed.data).map(([k, v]) => [k, toText(v)])) };
}

/**
 * A newline-delimited JSON file: one object per line, blank lines ignored. Chunks are byte ranges of
 * whole lines, as for CSV, so a worker reads only its chunk and a retry reads the same rows. Rows are
 * numbered from 1 over non-blank lines. Memory stays at one line plus a read buffer however big the file.
 */
export class NdjsonSource implements Source {
  constructor(private readonly file: SourceFile) {}

  pin(): Promise<FilePin> {
    return this.file.pin();
  }

  close(): Promise<void> {
    return this.file.close();
  }

  /**
   * Lines from byte `start` up to `end` (exclusive), blank ones skipped but still counted in offsets. A line that
   * grows past MAX_ROW_BYTES stops being kept: the rest of it is only counted, up to its newline.
   */
  private async *lines(start: number, end?: number): AsyncGenerator<Line> {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let offset = start;
    const toLine = (bytes: Buffer): Line | undefined => {
      const lineStart = offset;
      offset += bytes.length;
      let text = bytes.toString('utf8');
      if (lineStart === 0) text = text.replace(/^\uFEFF/, '');
      text = text.replace(/\r?\n$/, '');
      return text.trim() === '' ? undefined : { text, end: offset };
    };
    const take = (part: Buffer): Line | undefined => {
      const length = pendingBytes + part.length;
      const line =
        length > MAX_ROW_BYTES
          ? { tooLong: length, end: (offset += length) }
          : toLine(Buffer.concat([...pending, part]));
      pending = [];
      pendingBytes = 0;
      return line;
    };
    for await (const buffer of this.file.bytes(start, end)) {
      let from = 0;
      for (let newline = buffer.indexOf(NEWLINE); newline !== -1; newline = buffer.indexOf(NEWLINE, from)) {
        const next = take(buffer.subarray(from, newline + 1));
        from = newline + 1;
        if (next) yield next;
      }
      if (from < buffer.length) {
        pendingBytes += buffer.length - from;
        // Past the limit the bytes are counted, not kept.
        pending = pendingBytes > MAX_ROW_BYTES ? [] : [...pending, buffer.subarray(from)];
      }
    }
    const last = pendingBytes > 0 ? take(Buffer.alloc(0)) : undefined;
    if (last) yield last;
  }

  /**
   * The keys of the first COLUMN_SAMPLE_ROWS readable rows, in order of first appearance. A key seen
   * only further down is still read into its rows, but a mapping cannot name it up front. Rows of keys all their own
   * count against the columns a file may have, as a CSV header's do.
   */
  async columns(): Promise<string[]> {
    const columns = new Set<string>();
    let sampled = 0;
    for await (const line of this.lines(0)) {
      if (!('text' in line)) continue;
      const row = parseLine(line.text);
      if ('values' in row) Object.keys(row.values).forEach((key) => columns.add(key));
      if (columns.size > MAX_COLUMNS) {
        throw new ConfigError(
          `NDJSON file ${this.file.path}: its first ${sampled + 1} rows carry more than ${MAX_COLUMNS} distinct ` +
            'fields, the most a file may have',
        );
      }
      if (++sampled === COLUMN_SAMPLE_ROWS) break;
    }
    return [...columns];
  }

  async countRows(): Promise<number> {
    let rows = 0;
    for await (const _ of this.lines(0)) rows++;
    return rows;
  }

  async scan(cursor: Cursor, sizes: readonly number[]): Promise<ScanResult> {
    const start = typeof cursor.position === 'number' ? cursor.position : 0;
    return scanByteRanges(this.lines(start), (record) => record.end, start, cursor, sizes);
  }

  async *read(range: ChunkRange): AsyncIterable<SourceRow> {
    let row = range.firstRow;
    for await (const line of this.lines(Number(range.from), Number(range.to))) {
      yield { row: row++, ...('text' in line ? parseLine(line.text) : tooLong(line.tooLong)) };
    }
  }
}

export const ndjsonKind = fileSourceKind(ndjsonRef, (file) => new NdjsonSource(file), ['.ndjson', '.jsonl']);
