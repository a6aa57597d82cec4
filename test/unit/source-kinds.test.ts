import { mkdtemp, realpath, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeSource, SOURCE_REFS } from '../../src/core/source-registry.js';
import { START } from '../../src/core/source-refs.js';
import { SOURCE_KIND_LIST, SOURCE_KINDS } from '../../src/sources/registry.js';
import { sourceKinds } from '../../src/sources/source-kind.js';
import type { SourceRow } from '../../src/sources/source.js';
import { fakeSourceKind } from '../helpers/fake-source-kind.js';

const withFake = sourceKinds([...SOURCE_KIND_LIST, fakeSourceKind]);

async function rowsOf(rows: AsyncIterable<SourceRow>): Promise<SourceRow[]> {
  const all: SourceRow[] = [];
  for await (const row of rows) all.push(row);
  return all;
}

describe('source kinds', () => {
  it('are the same list in the workflow-safe registry and the one that opens them', () => {
    expect(SOURCE_KINDS.kinds).toEqual(SOURCE_REFS.kinds);
  });

  it('describe a source once, in every form the summaries, schedules, ids and search attribute show', () => {
    const file = describeSource({ kind: 'ndjson', path: '/data/leads.ndjson' });
    const table = describeSource({
      kind: 'postgres',
      connection: 'main',
      table: 'public.leads',
      key: 'id',
      cursorColumn: 'updated_at',
    });

    expect(file).toEqual({ address: 'ndjson:/data/leads.ndjson', label: '/data/leads.ndjson', name: 'leads.ndjson' });
    expect(table).toEqual({
      address: 'postgres:main/public.leads',
      label: 'table public.leads',
      name: 'public.leads',
      changes: 'changes by updated_at',
    });
  });

  it('make a file path absolute for the workers, and leave a table as it is', () => {
    const table = { kind: 'postgres', connection: 'main', table: 'leads', key: 'id' } as const;

    expect(SOURCE_KINDS.anchor({ kind: 'csv', path: 'leads.csv' })).toEqual({
      kind: 'csv',
      path: resolve('leads.csv'),
    });
    expect(SOURCE_KINDS.anchor(table)).toEqual(table);
  });

  it('tell file kinds apart by the ending of the name', () => {
    expect(['a.csv', 'a.NDJSON', 'a.jsonl', 'a.txt'].map(SOURCE_KINDS.kindOfFile)).toEqual([
      'csv',
      'ndjson',
      'ndjson',
      undefined,
    ]);
  });

  it('resume only a kind read in increments', () => {
    const since = { value: '2024-01-01', key: '7' };
    const table = { kind: 'postgres', connection: 'main', table: 'leads', key: 'id', cursorColumn: 'at' } as const;

    expect(SOURCE_REFS.resumeFrom({ kind: 'csv', path: '/a.csv' }, since)).toEqual({ kind: 'csv', path: '/a.csv' });
    expect(SOURCE_REFS.resumeFrom(table, since)).toEqual({ ...table, since });
    expect(SOURCE_REFS.sinceAfter(table, '["2024-01-02","9"]')).toEqual({ value: '2024-01-02', key: '9' });
    expect(SOURCE_REFS.sinceAfter({ kind: 'csv', path: '/a.csv' }, 120)).toBeUndefined();
  });
});

describe('a source kind added by one file and one line in the list', () => {
  it('validates its references beside the kinds already there', () => {
    expect(withFake.schema.safeParse({ kind: 'counter', rows: 3 }).success).toBe(true);
    expect(withFake.schema.safeParse({ kind: 'counter', rows: -1 }).success).toBe(false);
    expect(withFake.schema.safeParse({ kind: 'counter', rows: 3, path: '/a.csv' }).success).toBe(false);
    expect(withFake.schema.safeParse({ kind: 'csv', path: '/a.csv' }).success).toBe(true);
    expect(SOURCE_KINDS.schema.safeParse({ kind: 'counter', rows: 3 }).success).toBe(false);
  });

  it('is described, and resumed after the last row that landed, through the registry', () => {
    const ref = withFake.schema.parse({ kind: 'counter', rows: 5 });

    expect(withFake.describe(ref)).toEqual({ address: 'counter:5', label: '5 counted rows', name: 'counter-5' });
    expect(withFake.sinceAfter(ref, 3)).toEqual({ value: 3, key: 3 });
    expect(withFake.resumeFrom(ref, { value: 3, key: 3 })).toEqual({ ...ref, since: { value: 3, key: 3 } });
  });

  it('is opened, scanned and read through the registry, and the kinds already there still open', async () => {
    const directory = await realpath(await mkdtemp(join(tmpdir(), 'leadsync-source-kinds-')));
    const path = join(directory, 'leads.csv');
    await writeFile(path, 'email\na@example.com\n');
    const boundary = { configPath: join(directory, 'leadsync.yaml'), fileRoots: [directory], tables: {} };

    const counter = await withFake.open(
      withFake.schema.parse({ kind: 'counter', rows: 5, since: { value: 2, key: 2 } }),
      { boundary },
    );
    const scan = await counter.scan(START, [2, 2]);
    const csv = await withFake.open({ kind: 'csv', path }, { boundary });

    expect(await counter.countRows()).toBe(3);
    expect(scan).toEqual({
      chunks: [
        { from: 3, to: 4, firstRow: 1, rows: 2 },
        { from: 5, to: 5, firstRow: 3, rows: 1 },
      ],
      cursor: { position: 5, nextRow: 4 },
      done: true,
    });
    expect(await rowsOf(counter.read(scan.chunks[1]!))).toEqual([{ row: 3, values: { email: '5@example.com' } }]);
    expect(await csv.countRows()).toBe(1);
  });
});
