import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { parse, type Options } from 'csv-parse';
import { ConfigError } from '../config/errors.js';
import type { ChunkRange, Cursor, ScanResult, Source, SourceRow } from './types.js';

const PARSE_OPTIONS: Options = {
  bom: true,
  info: true,
  relax_column_count: true,
  skip_empty_lines: true,
};

interface ParsedRecord {
  record: string[];
  info: { bytes: number; lines: number };
}

/**
 * A CSV file with a header row. Chunks are byte ranges of whole records, so a worker reads only its
 * chunk, and a chunk handed out once reads the same rows on every retry.
 */
export class CsvSource implements Source {
  constructor(private readonly path: string) {}

  private records(start: number, end?: number): AsyncIterable<ParsedRecord> {
    // csv-parse counts bytes from where the stream starts; `end` is inclusive for createReadStream.
    const stream = createReadStream(this.path, { start, end: end === undefined ? undefined : end - 1 });
    return stream.pipe(parse(PARSE_OPTIONS)) as AsyncIterable<ParsedRecord>;
  }

  private async header(): Promise<{ columns: string[]; dataStart: number }> {
    await this.assertReadable();
    for await (const { record, info } of this.records(0)) {
      return { columns: record.map((c) => c.trim()), dataStart: info.bytes };
    }
    throw new ConfigError(`CSV file ${this.path} is empty: it needs a header row`);
  }

  private async assertReadable(): Promise<void> {
    try {
      await stat(this.path);
    } catch {
      throw new ConfigError(`CSV file ${this.path} does not exist or cannot be read`);
    }
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
    const chunks: ChunkRange[] = [];
    let current: ChunkRange | undefined;
    let position = start;
    let nextRow = cursor.nextRow;
    const records = this.records(start)[Symbol.asyncIterator]();
    while (chunks.length < sizes.length) {
      const next = await records.next();
      if (next.done) break;
      current ??= { from: position, to: position, firstRow: nextRow, rows: 0 };
      position = start + next.value.info.bytes;
      current.to = position;
      current.rows++;
      nextRow++;
      if (current.rows === sizes[chunks.length]) {
        chunks.push(current);
        current = undefined;
      }
    }
    if (current) chunks.push(current);
    const done = chunks.length < sizes.length || (await records.next()).done === true;
    await records.return?.();
    return { chunks, cursor: { position, nextRow }, done };
  }

  async *read(range: ChunkRange): AsyncIterable<SourceRow> {
    const { columns } = await this.header();
    let row = range.firstRow;
    for await (const { record } of this.records(Number(range.from), Number(range.to))) {
      if (record.length !== columns.length) {
        yield { row, unreadable: `expected ${columns.length} fields (${columns.join(', ')}), found ${record.length}` };
      } else {
        yield { row, values: Object.fromEntries(columns.map((column, i) => [column, record[i]!])) };
      }
      row++;
    }
  }
}
