import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { CsvSource } from '../../src/sources/csv.js';
import { START } from '../../src/core/source-refs.js';
import { type SourceRow } from '../../src/sources/source.js';
import { readChunkRows } from '../../activities/chunk-rows.js';
import { VENDORS } from '../../src/vendors/registry.js';

async function csv(content: string | Buffer): Promise<CsvSource> {
  const path = join(await mkdtemp(join(tmpdir(), 'leadsync-csv-')), 'rows.csv');
  await writeFile(path, content);
  return new CsvSource(path);
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

  it('refuses a quote left open over a huge file as one row, not the rest of the file in memory', async () => {
    const source = await csv(`a,b\n1,"${'z'.repeat(1_100_000)}\n2,ok\n`);
    const rows = await readAll(source, 10);
    expect(rows).toEqual([
      { row: 1, unreadable: expect.stringMatching(/over 1048576 bytes/) },
      { row: 2, values: { a: '2', b: 'ok' } },
    ]);
  });

  it('refuses a header that names one column twice, naming it, before any row is read', async () => {
    const source = await csv('email,first,email\na@x.io,A,b@x.io\n');
    await expect(source.columns()).rejects.toThrow(
      /column 'email' appears twice in the header \(columns 1 and 3\): rename one/,
    );
    await expect(source.countRows()).rejects.toThrow(ConfigError);
  });
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
