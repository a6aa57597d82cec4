import { Readable } from 'node:stream';
import { CsvError, parse, type Options } from 'csv-parse';
import { ConfigError, listNames } from '../core/errors.js';
import { scanByteRanges } from './byte-ranges.js';
import { MAX_COLUMNS, MAX_ROW_BYTES } from './row-limits.js';
import { fileSourceKind, type SourceFile } from './source-file.js';
import type { ChunkRange, Cursor, FilePin } from '../core/source-refs.js';
import type { ScanResult, Source, SourceRow } from './source.js';
import { csvRef } from '../core/file-refs.js';

// The parser's own max_record_size counts the characters of the fields, not the delimiters: a line of a million
// commas would pass it as a million empty fields held at once. Record sizes are bounded in bytes before it instead.
const PARSE_OPTIONS = {
  bom: true,
  relax_column_count: true,
  skip_empty_lines: true,
} satisfies Options;

/**
 * The reads that look for the header: a header is mostly some hundreds of bytes, and every byte read is checked for
 * the record size before the parser sees it, so a chunk's header check reads a little, not the file's first 64 KB.
 */
const HEADER_READ_BYTES = 4 * 1024;

const OVERSIZE = `is over ${MAX_ROW_BYTES} bytes: a quoted field is probably never closed`;
const QUOTE = 0x22;
const LINE_FEED = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** Decoding turns bytes that are not UTF-8 into U+FFFD; lead data holding one is corrupt either way. */
const REPLACEMENT_CHARACTER = '\uFFFD';

/** One record of the file and its byte range, or a stretch the parser could not read as a record. */
type FileRecord = { from: number; to: number } & ({ fields: string[] } | { unreadable: string });

/**
 * A CSV file with a header row. Chunks are byte ranges of whole records, so a worker reads only its
 * chunk, and a chunk handed out once reads the same rows on every retry.
 *
 * A record the parser refuses (a quote never closed, text after a closing quote) becomes one unreadable row running
 * to the end of its line, and parsing goes on at the next line: one bad row never costs the rest of the file. Scan
 * and read recover the same way, so a chunk reads exactly the rows its scan counted.
 */
export class CsvSource implements Source {
  private readonly path: string;

  constructor(private readonly file: SourceFile) {
    this.path = file.path;
  }

  pin(): Promise<FilePin> {
    return this.file.pin();
  }

  close(): Promise<void> {
    return this.file.close();
  }

  /** `first`: only the first record is wanted (the header), so the parser stops there, not at the end of its buffer. */
  private async *records(start: number, end?: number, first = false): AsyncGenerator<FileRecord> {
    let from = start;
    while (end === undefined || from < end) {
      const failure = yield* this.parseUntilFailure(from, end, first);
      if (!failure) return;
      // Records parsed in the same buffer as the failure never reach the iterator: parse them again, up to it.
      if (failure.at > failure.yieldedTo) yield* this.parseUntilFailure(failure.yieldedTo, failure.at, first);
      const to = await this.endOfLine(failure.at, end);
      yield { from: failure.at, to, unreadable: failure.reason };
      from = to;
    }
  }

  /** Yields records from `start` until `end` or the first one the parser refuses, and says where that one starts. */
  private async *parseUntilFailure(
    start: number,
    end: number | undefined,
    first: boolean,
  ): AsyncGenerator<FileRecord, { at: number; yieldedTo: number; reason: string } | undefined> {
    let parsedTo = start;
    let yieldedTo = start;
    const size: RecordSize = {};
    const bytes = this.file.bytes(start, end, first ? HEADER_READ_BYTES : undefined);
    const stream = Readable.from(boundRecordSize(bytes, start, size), { objectMode: false });
    // Where each parsed record ends, in order, until the loop below takes it: from the context the parser builds for
    // this callback anyway (its `info` option would build that object a second time for every record).
    const ends: number[] = [];
    const options: Options = {
      ...PARSE_OPTIONS,
      ...(first ? { to: 1 } : {}),
      on_record: (record, context) => {
        parsedTo = start + context.bytes;
        ends.push(parsedTo);
        return record;
      },
    };
    const parser = parse(options);
    // pipe() does not pass a read error on: without this the parser would wait for bytes that never come.
    stream.once('error', (err) => parser.destroy(err));
    try {
      for await (const record of stream.pipe(parser) as AsyncIterable<string[]>) {
        const to = ends.shift()!;
        // A record reaching past where the one over the size starts is that one, or what the bound cut off: no row.
        if (size.over !== undefined && to > size.over) break;
        yield { from: yieldedTo, to, fields: record };
        yieldedTo = to;
      }
    } catch (err) {
      if (!(err instanceof CsvError)) throw err;
      // The parser's refusal of what the bound cut off is not the record's fault: its size is.
      if (size.over === undefined || parsedTo < size.over) {
        return { at: parsedTo, yieldedTo, reason: describeCsvError(err, parsedTo) };
      }
    } finally {
      stream.destroy();
    }
    if (size.over === undefined) return undefined;
    return { at: size.over, yieldedTo, reason: `the record at byte ${size.over} ${OVERSIZE}` };
  }

  /** Where the line holding `position` ends (after its newline), skipping blank lines before it; at most `end`. */
  private async endOfLine(position: number, end?: number): Promise<number> {
    const buffer = Buffer.alloc(64 * 1024);
    let offset = position;
    let content = false;
    for (;;) {
      const bytesRead = await this.file.readAt(buffer, offset);
      if (bytesRead === 0) return end === undefined ? offset : Math.min(offset, end);
      for (let i = 0; i < bytesRead; i++) {
        const byte = buffer[i]!;
        if (byte === 0x0a && content) return clamp(offset + i + 1, end);
        if (byte !== 0x0a && byte !== 0x0d) content = true;
      }
      offset += bytesRead;
    }
  }

  /**
   * The header's columns, checked on every read of a chunk: one pass over them, however wide the file, and the
   * parser goes no further than the header (a chunk pays for its own rows only, not for the file's first buffer).
   */
  private async header(): Promise<{ columns: string[]; dataStart: number }> {
    for await (const record of this.records(0, undefined, true)) {
      if ('unreadable' in record) {
        throw new ConfigError(`CSV file ${this.path}: the header row cannot be read: ${record.unreadable}`);
      }
      if (record.fields.length > MAX_COLUMNS) {
        throw new ConfigError(
          `CSV file ${this.path}: the header has ${record.fields.length} columns, over the ${MAX_COLUMNS} a file may have`,
        );
      }
      const columns = record.fields.map((c) => c.trim());
      const repeated = repeatedColumn(columns);
      if (repeated) {
        throw new ConfigError(
          `CSV file ${this.path}: column '${repeated.column}' appears twice in the header ` +
            `(columns ${repeated.first} and ${repeated.second}): rename one`,
        );
      }
      return { columns, dataStart: record.to };
    }
    throw new ConfigError(`CSV file ${this.path} is empty: it needs a header row`);
  }

  async columns(): Promise<string[]> {
    return (await this.header()).columns;
  }

  async countRows(): Promise<number> {
    const { dataStart } = await this.header();
    let rows = 0;
    for await (const _ of this.records(dataStart)) rows++;
    return rows;
  }

  async scan(cursor: Cursor, sizes: readonly number[]): Promise<ScanResult> {
    const start = typeof cursor.position === 'number' ? cursor.position : (await this.header()).dataStart;
    return scanByteRanges(this.records(start), (record) => record.to, start, cursor, sizes);
  }

  async *read(range: ChunkRange): AsyncIterable<SourceRow> {
    const { columns } = await this.header();
    let row = range.firstRow;
    for await (const record of this.records(Number(range.from), Number(range.to))) {
      yield rowOf(row, record, columns);
      row++;
    }
  }
}

/**
 * The first name a header repeats, with the (1-based) columns of its first two places: a second column of one name
 * would silently win over the first in every row. One pass, as every read of a chunk checks its file's header.
 */
export function repeatedColumn(
  columns: readonly string[],
): { column: string; first: number; second: number } | undefined {
  const seen = new Map<string, number>();
  for (const [i, column] of columns.entries()) {
    const first = seen.get(column);
    if (first !== undefined) return { column, first: first + 1, second: i + 1 };
    seen.set(column, i);
  }
  return undefined;
}

function rowOf(row: number, record: FileRecord, columns: readonly string[]): SourceRow {
  if ('unreadable' in record) return { row, unreadable: record.unreadable };
  const { fields } = record;
  if (fields.length !== columns.length) {
    return { row, unreadable: `expected ${columns.length} fields (${listNames(columns)}), found ${fields.length}` };
  }
  const garbled = columns.filter((_, i) => fields[i]!.includes(REPLACEMENT_CHARACTER));
  if (garbled.length > 0) {
    return { row, unreadable: `column ${listNames(garbled)}: bytes that are not UTF-8 (save the file as UTF-8)` };
  }
  return { row, values: Object.fromEntries(columns.map((column, i) => [column, fields[i]!])) };
}

/** Where the first record over MAX_ROW_BYTES starts, once boundRecordSize has found one. */
interface RecordSize {
  over?: number;
}

/**
 * The bytes of a file from `start`, up to the first record over MAX_ROW_BYTES (its delimiters and quotes counted):
 * where that record starts goes to `size.over`, and what follows it is never handed on. Records end at a line end
 * outside quotes, as they do for the parser in any file it reads (a quote it would not take fails the record there
 * anyway). Decided by the bytes alone, so a scan and a read of the same bytes cut at the same record.
 */
async function* boundRecordSize(
  chunks: AsyncIterable<Buffer>,
  start: number,
  size: RecordSize,
): AsyncGenerator<Buffer> {
  let position = start;
  let recordStart = start;
  let quoted = false;
  for await (const chunk of chunks) {
    for (let i = 0; i < chunk.length && size.over === undefined; i++) {
      const byte = chunk[i]!;
      // An escaped quote ("") turns quoting off and on again: only a field's opening and closing quotes count.
      if (byte === QUOTE) quoted = !quoted;
      else if (!quoted && (byte === LINE_FEED || byte === CARRIAGE_RETURN)) {
        if (position + i - recordStart > MAX_ROW_BYTES) size.over = recordStart;
        recordStart = position + i + 1;
      }
    }
    position += chunk.length;
    if (size.over === undefined && position - recordStart > MAX_ROW_BYTES) size.over = recordStart;
    // The record over the size is handed on up to here: the parser holds at most a chunk past the bound of it.
    yield chunk;
    if (size.over !== undefined) return;
  }
  if (position - recordStart > MAX_ROW_BYTES) size.over = recordStart;
}

/** The parser's own messages count lines from where it started, which is not the file's line: say what is wrong. */
function describeCsvError(err: CsvError, at: number): string {
  const where = `the record at byte ${at}`;
  switch (err.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return `${where} opens a quoted field that is never closed`;
    case 'INVALID_OPENING_QUOTE':
      return `${where} has a quote inside an unquoted field (quote the whole field and double the quote)`;
    case 'CSV_INVALID_CLOSING_QUOTE':
      return `${where} has text after the closing quote of a field`;
    default:
      return `${where}: ${err.message.replace(/ at line \d+.*$/, '')}`;
  }
}

function clamp(position: number, end: number | undefined): number {
  return end === undefined ? position : Math.min(position, end);
}

export const csvKind = fileSourceKind(csvRef, (file) => new CsvSource(file), ['.csv']);
