import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { COLUMN_SAMPLE_ROWS, NdjsonSource, parseLine } from '../../src/sources/ndjson.js';
import { MAX_COLUMNS, MAX_ROW_BYTES } from '../../src/sources/row-limits.js';
import { openSource } from '../../src/sources/registry.js';
import { START } from '../../src/core/source-refs.js';
import { SourceRefSchema } from '../../src/core/source-registry.js';
import { openTestFile } from '../helpers/source-file.js';
import { scanToEnd } from '../helpers/source-scan.js';

let dir: string;
let files = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'leadsync-ndjson-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(content: string): Promise<string> {
  const path = join(dir, `source-${files++}.ndjson`);
  await writeFile(path, content);
  return path;
}

describe('parseLine', () => {
  it('reads a flat object as strings: numbers, booleans, null as empty', () => {
    expect(parseLine('{"email":"a@x.io","age":42,"score":1.5,"vip":true,"phone":null}')).toEqual({
      values: { email: 'a@x.io', age: '42', score: '1.5', vip: 'true', phone: '' },
    });
  });

  it('names what makes a line unreadable', () => {
    expect(parseLine('{"email": "a@x.io",')).toMatchObject({ unreadable: expect.stringMatching(/^not valid JSON/) });
    expect(parseLine('[1, 2]')).toEqual({ unreadable: 'expected a JSON object, found an array' });
    expect(parseLine('"a@x.io"')).toEqual({ unreadable: 'expected a JSON object, found a string' });
    expect(parseLine('null')).toEqual({ unreadable: 'expected a JSON object, found null' });
    expect(parseLine('{"email":"a@x.io","address":{"city":"Pune"},"tags":["a"]}')).toEqual({
      unreadable:
        'field "address" is an object; only strings, numbers, booleans and null can be read; ' +
        'field "tags" is an array; only strings, numbers, booleans and null can be read',
    });
    expect(parseLine('{"phone":919876543210123456}')).toEqual({
      unreadable: 'field "phone" is an integer too large to read exactly; write it as a string',
    });
  });
});

describe('NDJSON source', () => {
  it('reads good rows, skips blank lines, and turns bad lines into unreadable rows', async () => {
    const path = await file(
      '\uFEFF{"email":"a@x.io","n":1}\r\n' +
        '\n' +
        '   \n' +
        'not json\n' +
        '{"email":"b@x.io","address":{"city":"Pune"}}\n' +
        '{"email":"c@x.io","extra":false}', // no final newline
    );
    const source = new NdjsonSource(await openTestFile(path));

    expect(await source.countRows()).toBe(4);
    expect(await source.columns()).toEqual(['email', 'n', 'extra']);
    const { rows, cursor } = await scanToEnd(source, [10]);
    expect(rows).toEqual([
      { row: 1, values: { email: 'a@x.io', n: '1' } },
      { row: 2, unreadable: expect.stringMatching(/^not valid JSON/) },
      { row: 3, unreadable: expect.stringContaining('field "address" is an object') },
      { row: 4, values: { email: 'c@x.io', extra: 'false' } },
    ]);
    expect(cursor.nextRow).toBe(5);
  });

  it('cuts byte-range chunks that together read every row exactly once, numbered right', async () => {
    const lines = Array.from({ length: 97 }, (_, i) =>
      i % 13 === 5
        ? '{"broken"'
        : JSON.stringify({ id: i + 1, email: `lead${i + 1}@example.com`, note: 'é'.repeat(i) }),
    );
    // Blank lines between rows, and trailing ones, must not shift chunk edges or row numbers.
    const path = await file(lines.map((l, i) => (i % 10 === 0 ? `${l}\n\n` : `${l}\n`)).join('') + '\n\n');
    const source = new NdjsonSource(await openTestFile(path));

    for (const sizes of [[1], [7, 7, 7], [10], [96], [97], [200]]) {
      const { chunks, rows } = await scanToEnd(source, sizes);
      expect(rows.map((r) => r.row)).toEqual(Array.from({ length: 97 }, (_, i) => i + 1));
      expect(rows.map((r) => ('values' in r ? Number(r.values.id) : -r.row))).toEqual(
        lines.map((l, i) => (l === '{"broken"' ? -(i + 1) : i + 1)),
      );
      let expectedFirst = 1;
      for (const chunk of chunks) {
        expect(chunk.firstRow).toBe(expectedFirst);
        expectedFirst += chunk.rows;
      }
      chunks.slice(1).forEach((chunk, i) => expect(chunk.from).toBe(chunks[i]!.to));
    }
  });

  it('reads lines longer than the read buffer, and a huge file chunk by chunk', async () => {
    const long = JSON.stringify({ email: 'long@x.io', bio: 'x'.repeat(200_000) });
    const rows = 20_000;
    const body = Array.from({ length: rows }, (_, i) => (i === 3 ? long : `{"id":${i + 1}}`)).join('\n');
    const source = new NdjsonSource(await openTestFile(await file(body)));

    const { chunks, rows: read } = await scanToEnd(source, [5000, 5000]);
    expect(chunks.map((c) => c.rows)).toEqual([5000, 5000, 5000, 5000]);
    expect(read).toHaveLength(rows);
    expect(read[3]).toMatchObject({ values: { email: 'long@x.io', bio: expect.stringMatching(/^x{200000}$/) } });
    expect(read.at(-1)).toEqual({ row: rows, values: { id: String(rows) } });
  });

  it('reads a line over 1 MiB as one unreadable row without holding it, and the rows around it', async () => {
    // 100 MB in one line, written in pieces: the test itself never holds the line either.
    const path = await file('{"email":"before@x.io"}\n{"bio":"');
    const piece = 'x'.repeat(1024 * 1024);
    for (let i = 0; i < 100; i++) await appendFile(path, piece);
    await appendFile(path, '"}\n{"email":"after@x.io"}\n');
    const source = new NdjsonSource(await openTestFile(path));
    const held = () => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    const before = held();

    const { chunks, rows } = await scanToEnd(source, [1, 1]);

    expect(held() - before).toBeLessThan(50 * 1024 * 1024);
    expect(chunks.map((c) => c.rows)).toEqual([1, 1, 1]);
    expect(rows).toEqual([
      { row: 1, values: { email: 'before@x.io' } },
      { row: 2, unreadable: `the line is ${100 * 1024 * 1024 + 11} bytes, over the ${MAX_ROW_BYTES} a row may have` },
      { row: 3, values: { email: 'after@x.io' } },
    ]);
    expect(await source.columns()).toEqual(['email']);
  });

  it('reads a row of more fields than a file may have columns as one unreadable row', async () => {
    const wide = JSON.stringify(Object.fromEntries(Array.from({ length: MAX_COLUMNS + 1 }, (_, i) => [`k${i}`, 1])));
    const source = new NdjsonSource(await openTestFile(await file(`${wide}\n{"email":"a@x.io"}\n`)));

    expect((await scanToEnd(source, [1])).rows).toEqual([
      { row: 1, unreadable: `the row has ${MAX_COLUMNS + 1} fields, over the ${MAX_COLUMNS} a row may have` },
      { row: 2, values: { email: 'a@x.io' } },
    ]);
  });

  it('refuses a file whose sampled rows carry more distinct fields than a file may have columns', async () => {
    const row = (n: number) =>
      JSON.stringify(Object.fromEntries(Array.from({ length: MAX_COLUMNS / 2 }, (_, i) => [`r${n}k${i}`, 1])));
    const source = new NdjsonSource(await openTestFile(await file(`${row(1)}\n${row(2)}\n${row(3)}\n`)));

    await expect(source.columns()).rejects.toThrow(
      new RegExp(`: its first 3 rows carry more than ${MAX_COLUMNS} distinct fields, the most a file may have`),
    );
  });

  it('samples the first rows for columns', async () => {
    const body = Array.from({ length: COLUMN_SAMPLE_ROWS }, () => '{"email":"a@x.io"}').join('\n');
    const source = new NdjsonSource(await openTestFile(await file(`${body}\n{"late":"1"}\n`)));
    expect(await source.columns()).toEqual(['email']);
  });

  it('reads an empty file as no rows, and a missing one as a ConfigError', async () => {
    const empty = new NdjsonSource(await openTestFile(await file('\n\n')));
    expect(await empty.countRows()).toBe(0);
    expect(await empty.columns()).toEqual([]);
    expect(await empty.scan(START, [10])).toEqual({ chunks: [], cursor: { position: 0, nextRow: 1 }, done: true });

    const missing = openTestFile(join(dir, 'nope.ndjson'));
    await expect(missing).rejects.toThrow(ConfigError);
    await expect(missing).rejects.toThrow(/nope\.ndjson does not exist/);
  });

  it('opens from a reference', async () => {
    const ref = SourceRefSchema.parse({ kind: 'ndjson', path: await file('{"a":1}\n') });
    const boundary = { configPath: 'leadsync.yaml', fileRoots: [dir], tables: {} };
    const source = await openSource(ref, { boundary });
    expect(await source.countRows()).toBe(1);
    await source.close?.();
    expect(SourceRefSchema.safeParse({ kind: 'ndjson' }).success).toBe(false);
  });
});
