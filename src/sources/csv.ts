import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { CsvError, parse, type Options } from 'csv-parse';
import { ConfigError } from '../core/errors.js';
import { scanByteRanges } from './byte-ranges.js';
import { assertReadable, fileSourceKind, pinFile } from './source-file.js';
import type { ChunkRange, Cursor, FilePin } from '../core/source-refs.js';
import type { ScanResult, Source, SourceRow } from './source.js';
import { csvRef } from '../core/file-refs.js';

/** A record past this size is a quote left open, not data: it is refused before it fills the worker's memory. */
const MAX_RECORD_BYTES = 1024 * 1024;

const PARSE_OPTIONS: Options = {
  bom: true,
  info: true,
  relax_column_count: true,
  skip_empty_lines: true,
  max_record_size: MAX_RECORD_BYTES,
};

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
  constructor(private readonly path: string) {}

  pin(): Promise<FilePin> {
    return pinFile(this.path);
  }

  private async *records(start: number, end?: number): AsyncGenerator<FileRecord> {
    let from = start;
    while (end === undefined || from < end) {
      const failure = yield* this.parseUntilFailure(from, end);
      if (!failure) return;
      // Records parsed in the same buffer as the failure never reach the iterator: parse them again, up to it.
      if (failure.at > failure.yieldedTo) yield* this.parseUntilFailure(failure.yieldedTo, failure.at);
      const to = await this.endOfLine(failure.at, end);
      yield { from: failure.at, to, unreadable: failure.reason };
      from = to;
    }
  }

  /** Yields records from `start` until `end` or the first one the parser refuses, and says where that one starts. */
  private async *parseUntilFailure(
    start: number,
    end: number | undefined,
  ): AsyncGenerator<FileRecord, { at: number; yieldedTo: number; reason: string } | undefined> {
    let parsedTo = start;
    let yieldedTo = start;
    // `end` is exclusive here and inclusive for createReadStream.
    const stream = createReadStream(this.path, { start, end: end === undefined ? undefined : end - 1 });
    const options: Options = {
      ...PARSE_OPTIONS,
      on_record: (record, context) => {
        parsedTo = start + context.bytes;
        return record;
      },
    };
    const parser = parse(options);
    try {
      for await (const { record, info } of stream.pipe(parser) as AsyncIterable<ParsedRecord>) {
        const to = start + info.bytes;
        yield { from: yieldedTo, to, fields: record };
        yieldedTo = to;
      }
      return undefined;
    } catch (err) {
      if (!(err instanceof CsvError)) throw err;
      return { at: parsedTo, yieldedTo, reason: describeCsvError(err, parsedTo) };
    } finally {
      stream.destroy();
    }
  }

  /** Where the line holding `position` ends (after its newline), skipping blank lines before it; at most `end`. */
  private async endOfLine(position: number, end?: number): Promise<number> {
    const file = await open(this.path);
    try {
      const buffer = Buffer.alloc(64 * 1024);
      let offset = position;
      let content = false;
      for (;;) {
        const { bytesRead } = await file.read(buffer, 0, buffer.length, offset);
        if (bytesRead === 0) return end === undefined ? offset : Math.min(offset, end);
        for (let i = 0; i < bytesRead; i++) {
          const byte = buffer[i]!;
          if (byte === 0x0a && content) return clamp(offset + i + 1, end);
          if (byte !== 0x0a && byte !== 0x0d) content = true;
        }
        offset += bytesRead;
      }
    } finally {
      await file.close();
    }
  }

  private async header(): Promise<{ columns: string[]; dataStart: number }> {
    await assertReadable('CSV file', this.path);
    for await (const record of this.records(0)) {
      if ('unreadable' in record) {
        throw new ConfigError(`CSV file ${this.path}: the header row cannot be read: ${record.unreadable}`);
      }
      const columns = record.fields.map((c) => c.trim());
      // A second column of one name would silently win over the first in every row.
      const repeated = columns.findIndex((column, i) => columns.indexOf(column) !== i);
      if (repeated !== -1) {
        const first = columns.indexOf(columns[repeated]!);
        throw new ConfigError(
          `CSV file ${this.path}: column '${columns[repeated]}' appears twice in the header ` +
            `(columns ${first + 1} and ${repeated + 1}): rename one`,
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

interface ParsedRecord {
  record: string[];
  info: { bytes: number };
}

function rowOf(row: number, record: FileRecord, columns: readonly string[]): SourceRow {
  if ('unreadable' in record) return { row, unreadable: record.unreadable };
  const { fields } = record;
  if (fields.length !== columns.length) {
    return { row, unreadable: `expected ${columns.length} fields (${columns.join(', ')}), found ${fields.length}` };
  }
  const garbled = columns.filter((_, i) => fields[i]!.includes(REPLACEMENT_CHARACTER));
  if (garbled.length > 0) {
    return { row, unreadable: `column ${garbled.join(', ')}: bytes that are not UTF-8 (save the file as UTF-8)` };
  }
  return { row, values: Object.fromEntries(columns.map((column, i) => [column, fields[i]!])) };
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
    case 'CSV_MAX_RECORD_SIZE':
      return `${where} is over ${MAX_RECORD_BYTES} bytes: a quoted field is probably never closed`;
    default:
      return `${where}: ${err.message.replace(/ at line \d+.*$/, '')}`;
  }
}

function clamp(position: number, end: number | undefined): number {
  return end === undefined ? position : Math.min(position, end);
}

export const csvKind = fileSourceKind(csvRef, (path) => new CsvSource(path), ['.csv']);
