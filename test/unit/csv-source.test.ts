import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { CsvSource, repeatedColumn } from '../../src/sources/csv.js';
import { MAX_COLUMNS, MAX_ROW_BYTES } from '../../src/sources/row-limits.js';
import { START } from '../../src/core/source-refs.js';
import { type SourceRow } from '../../src/sources/source.js';
import { readChunkRows } from '../../activities/chunk-rows.js';
import { VENDORS } from '../../src/vendors/registry.js';
import { openTestFile } from '../helpers/source-file.js';

/**
 * For a test that parses a record of a megabyte or more, several times over: seconds of CPU when the machine is idle
 * (3.4 s for the line of commas), and more beside other test files, past vitest's default of 5 s. What such a test
 * pins is what is read, not how fast.
 */
const MEGABYTE_RECORDS_TIMEOUT_MS = 60_000;

async function csv(content: string | Buffer): Promise<CsvSource> {
  const path = join(await mkdtemp(join(tmpdir(), 'leadsync-csv-')), 'rows.csv');
  await writeFile(path, content);
  return new CsvSource(await openTestFile(path));
}

/** Every row, read chunk by chunk as a sync would, with chunks of `size` rows. */
async function readAll(source: CsvSource, size: number): Promise<SourceRow[]> {
  const rows: SourceRow[] = [];
  let cursor = START;
  for (;;) {
    const scan = await source.scan(cursor, [size, size]);
    for (const chunk of scan.chunks) for await (const row of source.read(chunk)) rows.push(row);
    cursor = scan.cursor;
    if (scan.done) return rows;
  }
}

describe('CsvSource on malformed files', () => {
  it('turns a record the parser refuses into one unreadable row and reads on, whatever the chunk size', async () => {
    const source = await csv('a,b\n1,"open\n2,ok\n3,x"y\n\n4,"closed" late\n5,end\n');
    expect(await source.countRows()).toBe(5);
    for (const size of [1, 2, 3, 50]) {
      const rows = await readAll(source, size);
      expect(rows.map((r) => ('values' in r ? r.values.a : 'unreadable'))).toEqual([
        'unreadable',
        '2',
        'unreadable',
        'unreadable',
        '5',
      ]);
      expect(rows.map((r) => r.row)).toEqual([1, 2, 3, 4, 5]);
    }
  });

  it('names the column holding bytes that are not UTF-8, and strips a BOM', async () => {
    const source = await csv(
      Buffer.concat([Buffer.from('\ufeffemail,name\nx@example.com,Ren'), Buffer.from([0xe9]), Buffer.from('\n')]),
    );
    expect(await source.columns()).toEqual(['email', 'name']);
    expect(await readAll(source, 10)).toEqual([{ row: 1, unreadable: expect.stringMatching(/^column name: bytes/) }]);
  });

  it(
    'refuses a quote left open over a huge file as one row, not the rest of the file in memory',
    async () => {
      const source = await csv(`a,b\n1,"${'z'.repeat(1_100_000)}\n2,ok\n`);
      const rows = await readAll(source, 10);
      expect(rows).toEqual([
        { row: 1, unreadable: expect.stringMatching(/over 1048576 bytes/) },
        { row: 2, values: { a: '2', b: 'ok' } },
      ]);
    },
    MEGABYTE_RECORDS_TIMEOUT_MS,
  );

  it('refuses a header that names one column twice, naming it, before any row is read', async () => {
    const source = await csv('email,first,email\na@x.io,A,b@x.io\n');
    await expect(source.columns()).rejects.toThrow(
      /column 'email' appears twice in the header \(columns 1 and 3\): rename one/,
    );
    await expect(source.countRows()).rejects.toThrow(ConfigError);
  });
});

describe('CsvSource on files past its caps', () => {
  it('refuses a header of more columns than a file may have, naming the file and the cap', async () => {
    const source = await csv(`${Array.from({ length: MAX_COLUMNS + 1 }, (_, i) => `c${i}`).join(',')}\nx\n`);
    await expect(source.columns()).rejects.toThrow(
      new RegExp(`rows\\.csv: the header has ${MAX_COLUMNS + 1} columns, over the ${MAX_COLUMNS} a file may have`),
    );
  });

  it('takes a header as wide as a file may have, and finds the name it repeats', async () => {
    const wide = Array.from({ length: MAX_COLUMNS }, (_, i) => `c${i}`);
    expect(await (await csv(`${wide.join(',')}\n`)).columns()).toHaveLength(MAX_COLUMNS);
    const repeated = await csv(`${[...wide.slice(0, -1), 'c0'].join(',')}\n`);
    await expect(repeated.columns()).rejects.toThrow(/column 'c0' appears twice in the header \(columns 1 and 10000\)/);
  });

  it('checks a header in one pass: 50,000 names in well under the time a scan of pairs takes', () => {
    // Every read of a chunk checks its file's header. A check of every pair (50,000^2 / 2 comparisons) takes seconds;
    // one pass takes milliseconds, so the bound below holds on a loaded machine and fails on pairs.
    // Counted in this process's CPU time, not the clock's: on a machine shared with other test files the clock also
    // counts the time the others held the cores.
    const names = Array.from({ length: 50_000 }, (_, i) => `column_${i}`);
    const started = process.cpuUsage();
    expect(repeatedColumn(names)).toBeUndefined();
    expect(repeatedColumn([...names, 'column_49999'])).toEqual({
      column: 'column_49999',
      first: 50_000,
      second: 50_001,
    });
    const { user, system } = process.cpuUsage(started);
    expect((user + system) / 1_000).toBeLessThan(500);
  });

  it('parses only the header to check it: 300 checks of a file of 2,000 rows in well under the time to parse them', async () => {
    // Every read of a chunk checks its file's header. Parsed to the end of the file's first read (64 KB), 300 checks
    // took 3.3-3.6 s of CPU on the 2-core machine; the header alone takes about 0.25 s. CPU time, as above.
    const rows = Array.from({ length: 2_000 }, (_, i) => `lead-${i}@example.com,First${i},Last${i}`);
    const source = await csv(`EmailAddress,FirstName,LastName\n${rows.join('\n')}\n`);
    await source.columns();
    const started = process.cpuUsage();
    for (let i = 0; i < 300; i++) await source.columns();
    const { user, system } = process.cpuUsage(started);
    expect((user + system) / 1_000).toBeLessThan(1_000);
  });

  it(
    'reads a record of delimiters past the row size as one unreadable row, and keeps quoted line ends',
    async () => {
      // The parser counts the characters of fields, not their delimiters: 2 million commas are 2 million empty fields.
      const before = 'a,b\n1,"line one\nline ""two"""\n';
      const source = await csv(`${before}2,${','.repeat(2 * MAX_ROW_BYTES)}\n3,ok\n`);
      for (const size of [1, 50]) {
        expect(await readAll(source, size)).toEqual([
          { row: 1, values: { a: '1', b: 'line one\nline "two"' } },
          {
            row: 2,
            unreadable: `the record at byte ${before.length} is over ${MAX_ROW_BYTES} bytes: a quoted field is probably never closed`,
          },
          { row: 3, values: { a: '3', b: 'ok' } },
        ]);
      }
    },
    MEGABYTE_RECORDS_TIMEOUT_MS,
  );
});

describe('a chunk of a file', () => {
  it('stops at the rows its scan counted: a range no scan cut is refused, not read whole', async () => {
    const source = await csv(`EmailAddress\n${Array.from({ length: 50 }, (_, i) => `r${i}@x.io`).join('\n')}\n`);
    const { chunks } = await source.scan(START, [10]);
    const forged = { ...chunks[0]!, to: Number.MAX_SAFE_INTEGER };

    await expect(readChunkRows(source, VENDORS.named('leadsquared'), undefined, forged, 'leads')).rejects.toThrow(
      /the chunk at row 1 holds more than the 10 rows its scan counted/,
    );
    expect((await readChunkRows(source, VENDORS.named('leadsquared'), undefined, chunks[0]!, 'leads')).rows).toBe(10);
  });
});
