import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import {
  leasePool,
  postgresConnectionResolver,
  PostgresConnectionSchema,
} from '../../src/sources/postgres-connection.js';
import { openPostgresSource, type PostgresSource } from '../../src/sources/postgres.js';
import type { SourceBoundary } from '../../src/sources/boundary.js';
import { openSource } from '../../src/sources/registry.js';
import { START } from '../../src/core/source-refs.js';
import { PostgresSourceSchema, postgresSinceAfter, type PostgresSourceRef } from '../../src/core/postgres-ref.js';
import { type Source, type SourceRow } from '../../src/sources/source.js';
import { TEST_POSTGRES_URL } from '../helpers/postgres-table.js';
import { readChunk, scanToEnd } from '../helpers/source-scan.js';

const resolve = postgresConnectionResolver(
  { test: { urlEnv: 'LEADSYNC_TEST_POSTGRES_URL' } },
  {
    LEADSYNC_TEST_POSTGRES_URL: TEST_POSTGRES_URL,
  },
);

/** The tests' tables are made in the public schema, named for the test: the connection lets syncs read all of it. */
const boundary: SourceBoundary = { configPath: 'leadsync.yaml', fileRoots: [], tables: { test: ['public.*'] } };

let admin: pg.Client;
const opened: Source[] = [];
const tables: string[] = [];

beforeAll(async () => {
  admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await admin.connect();
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((source) => source.close?.()));
  // CASCADE takes a test's views with its table.
  for (const table of tables.splice(0)) await admin.query(`DROP TABLE IF EXISTS ${table} CASCADE`);
});

afterAll(async () => {
  await admin.end();
});

async function createTable(columns: string): Promise<string> {
  const table = `leadsync_test_${process.pid}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  tables.push(table);
  await admin.query(`CREATE TABLE ${table} (${columns})`);
  return table;
}

function open(ref: Omit<PostgresSourceRef, 'kind' | 'connection'>): PostgresSource {
  const source = openPostgresSource(
    PostgresSourceSchema.parse({ kind: 'postgres', connection: 'test', ...ref }),
    resolve,
    boundary,
  );
  opened.push(source);
  return source;
}

function values(row: SourceRow): Record<string, string> {
  if (!('values' in row)) throw new Error(`row ${row.row} unreadable: ${row.unreadable}`);
  return row.values;
}

describe('PostgreSQL source', () => {
  it('cuts keyset chunks that cover every row exactly once, numbered in order', async () => {
    // Keys past 2^53 with gaps: positions must round-trip exactly, not as JS numbers.
    const table = await createTable('id bigint PRIMARY KEY, email text, score numeric');
    await admin.query(
      `INSERT INTO ${table} SELECT 9007199254740993 + i * 3, 'lead' || i || '@example.com', i / 7.0 FROM generate_series(1, 103) AS i`,
    );
    const source = open({ table, key: 'id' });

    expect(await source.columns()).toEqual(['id', 'email', 'score']);
    expect(await source.countRows()).toBe(103);
    const { chunks, rows, cursor } = await scanToEnd(source, [10, 10, 10]);

    expect(chunks.map((c) => c.rows)).toEqual([...Array(10).fill(10), 3]);
    expect(chunks.map((c) => c.firstRow)).toEqual(chunks.map((_, i) => 1 + i * 10));
    expect(rows.map((r) => r.row)).toEqual(Array.from({ length: 103 }, (_, i) => i + 1));
    const expected = Array.from({ length: 103 }, (_, i) => (9007199254740993n + BigInt(i + 1) * 3n).toString());
    expect(rows.map((r) => values(r).id)).toEqual(expected);
    expect(values(rows[6]!)).toEqual({ id: expected[6], email: 'lead7@example.com', score: '1.00000000000000000000' });
    expect(cursor).toEqual({ position: expected[102], nextRow: 104 });
    expect(chunks[0]).toMatchObject({ from: expected[0], to: expected[9] });

    const after = await source.scan(cursor, [10]);
    expect(after).toEqual({ chunks: [], cursor, done: true });
  });

  it('says done on the scan that reaches the last row, and not before', async () => {
    const table = await createTable('id int PRIMARY KEY');
    await admin.query(`INSERT INTO ${table} SELECT generate_series(1, 20)`);
    const source = open({ table, key: 'id' });

    const first = await source.scan(START, [10]);
    expect(first.done).toBe(false);
    const second = await source.scan(first.cursor, [5, 5]);
    expect(second).toMatchObject({ done: true, cursor: { position: '20', nextRow: 21 } });
    expect(second.chunks.map((c) => [c.from, c.to, c.firstRow, c.rows])).toEqual([
      ['11', '15', 11, 5],
      ['16', '20', 16, 5],
    ]);
  });

  it('syncs incrementally after since: rows sharing a cursor value are neither lost nor repeated', async () => {
    const table = await createTable('id int PRIMARY KEY, email text, updated_at timestamptz NOT NULL');
    // Many ties, and values a microsecond apart that a JS Date could not tell apart.
    await admin.query(
      `INSERT INTO ${table} SELECT i, 'v1-' || i,
         CASE WHEN i % 3 = 0 THEN timestamptz '2024-05-01 10:00:00.000001+00'
              ELSE timestamptz '2024-05-01 10:00:00.000002+00' END
       FROM generate_series(1, 60) AS i`,
    );
    const ref = { table, key: 'id', cursorColumn: 'updated_at' };

    const first = await scanToEnd(open(ref), [7, 7]);
    expect(first.rows.map((r) => Number(values(r).id)).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 60 }, (_, i) => i + 1),
    );
    // In (updated_at, id) order: the multiples of 3 first, at the earlier microsecond.
    expect(first.rows.slice(0, 20).every((r) => Number(values(r).id) % 3 === 0)).toBe(true);
    const since = postgresSinceAfter(first.cursor.position!);
    expect(since).toEqual({ value: '2024-05-01 10:00:00.000002+00', key: '59' });

    // Between runs: a tie with the cursor value but a later key, updates, and new rows.
    await admin.query(`INSERT INTO ${table} VALUES (100, 'tie', '2024-05-01 10:00:00.000002+00')`);
    await admin.query(`INSERT INTO ${table} VALUES (50000, 'behind the cursor', '2024-05-01 10:00:00.000001+00')`);
    await admin.query(`UPDATE ${table} SET email = 'v2-' || id, updated_at = '2024-05-02 00:00:00+00' WHERE id <= 10`);
    await admin.query(
      `INSERT INTO ${table} SELECT i, 'new-' || i, '2024-05-02 00:00:00+00' FROM generate_series(200, 214) AS i`,
    );

    const second = open({ ...ref, since });
    expect(await second.countRows()).toBe(26);
    const run2 = await scanToEnd(second, [4, 4, 4]);
    const seen = run2.rows.map((r) => values(r).id);
    // Row 50000 went in behind the cursor without moving its cursor value: by design, it is not read.
    expect(seen).toEqual([
      '100',
      ...Array.from({ length: 10 }, (_, i) => `${i + 1}`),
      ...Array.from({ length: 15 }, (_, i) => `${200 + i}`),
    ]);
    expect(values(run2.rows[1]!)).toMatchObject({ email: 'v2-1', updated_at: '2024-05-02T00:00:00.000Z' });

    const third = open({ ...ref, since: postgresSinceAfter(run2.cursor.position!) });
    expect(await third.countRows()).toBe(0);
    expect(await third.scan(START, [4])).toEqual({ chunks: [], cursor: START, done: true });
  });

  it('reads rows by key as they are now, in the order asked, with their key and version, leaving out gone keys', async () => {
    const table = await createTable('id bigint PRIMARY KEY, email text, updated_at timestamptz');
    await admin.query(
      `INSERT INTO ${table} SELECT i, 'lead' || i || '@example.com', '2024-01-01T00:00:00Z'::timestamptz + i * interval '1 hour'
       FROM generate_series(1, 5) AS i`,
    );
    await admin.query(`UPDATE ${table} SET updated_at = NULL WHERE id = 4`);
    const source = open({ table, key: 'id', cursorColumn: 'updated_at' });

    const rows: SourceRow[] = [];
    for await (const row of source.readKeys(['3', '9', '1', '4'], 21)) rows.push(row);

    // Row 9 does not exist and row 4 has no place in incremental order: their numbers stay unused.
    expect(rows).toEqual([
      {
        row: 21,
        key: '3',
        version: '2024-01-01 03:00:00+00',
        values: { id: '3', email: 'lead3@example.com', updated_at: '2024-01-01T03:00:00.000Z' },
      },
      {
        row: 23,
        key: '1',
        version: '2024-01-01 01:00:00+00',
        values: { id: '1', email: 'lead1@example.com', updated_at: '2024-01-01T01:00:00.000Z' },
      },
    ]);
  });

  it('reads values as text: dates as ISO strings, null as empty, numbers exactly', async () => {
    const table = await createTable(
      'id int PRIMARY KEY, at timestamptz, local timestamp, day date, ok boolean, note text, big bigint, price numeric(12,4)',
    );
    await admin.query(
      `INSERT INTO ${table} VALUES
         (1, '2024-03-01 12:34:56.789+02', '2024-03-01 12:34:56.789123', '2024-03-01', true, null, 9223372036854775807, 12.5),
         (2, '2024-03-01 00:00:00+05:30', '2024-03-01 00:00:00', '0900-01-01', false, '', -1, 0)`,
    );
    const source = open({ table, key: 'id' });
    const { rows } = await scanToEnd(source, [10]);

    expect(rows.map(values)).toEqual([
      {
        id: '1',
        at: '2024-03-01T10:34:56.789Z',
        local: '2024-03-01T12:34:56.789',
        day: '2024-03-01',
        ok: 'true',
        note: '',
        big: '9223372036854775807',
        price: '12.5000',
      },
      {
        id: '2',
        at: new Date('2024-02-29T18:30:00Z').toISOString(),
        local: '2024-03-01T00:00:00.000',
        day: '0900-01-01',
        ok: 'false',
        note: '',
        big: '-1',
        price: '0.0000',
      },
    ]);
  });

  it('fails with a ConfigError naming an unknown table or column, or a key no unique index backs', async () => {
    const table = await createTable('id int PRIMARY KEY, updated_at timestamptz');

    const missingTable = open({ table: 'public.no_such_table_here', key: 'id' });
    await expect(missingTable.countRows()).rejects.toThrow(ConfigError);
    await expect(missingTable.columns()).rejects.toThrow(/no_such_table_here/);

    await expect(open({ table, key: 'lead_id' }).scan(START, [5])).rejects.toThrow(
      new ConfigError(`PostgreSQL source ${table}: key column 'lead_id' does not exist (columns: id, updated_at)`),
    );
    const missingCursor = open({ table, key: 'id', cursorColumn: 'modified' });
    await expect(missingCursor.countRows()).rejects.toThrow(/cursorColumn column 'modified' does not exist/);

    const view = `${table}_view`;
    await admin.query(`CREATE VIEW ${view} AS SELECT * FROM ${table}`);
    expect(await open({ table: view, key: 'updated_at' }).countRows()).toBe(0);
    await expect(open({ table, key: 'updated_at' }).countRows()).rejects.toThrow(
      /key column 'updated_at' has no unique index/,
    );

    const badSince = open({ table, key: 'id', cursorColumn: 'updated_at', since: { value: 'yesterday-ish', key: 1 } });
    await expect(badSince.countRows()).rejects.toThrow(ConfigError);
  });

  it('accepts names, never SQL, in a reference, and connections by name only', () => {
    const parse = (ref: object) => PostgresSourceSchema.safeParse({ kind: 'postgres', connection: 'main', ...ref });
    expect(parse({ table: 'crm.leads', key: 'id' }).success).toBe(true);
    expect(parse({ table: 'leads; DROP TABLE leads', key: 'id' }).success).toBe(false);
    expect(parse({ table: 'leads', key: 'id" OR 1=1 --' }).success).toBe(false);
    expect(parse({ table: 'leads', key: 'id', where: 'id > 5' }).success).toBe(false);
    expect(parse({ table: 'leads', key: 'id', since: { value: 'x', key: 1 } }).success).toBe(false);
    expect(
      PostgresSourceSchema.safeParse({ kind: 'postgres', connection: TEST_POSTGRES_URL, table: 'leads', key: 'id' })
        .success,
    ).toBe(false);

    expect(PostgresConnectionSchema.safeParse({ urlEnv: 'CRM_DATABASE_URL' }).success).toBe(true);
    expect(PostgresConnectionSchema.safeParse({ url: 'postgres://reader@db.internal/crm' }).success).toBe(true);
    expect(PostgresConnectionSchema.safeParse({ url: 'postgres://reader:hunter2@db/crm' }).success).toBe(false);
    expect(() => resolve('crm')).toThrow(
      new ConfigError("no PostgreSQL connection named 'crm' in the config (configured: test)"),
    );
    expect(() => postgresConnectionResolver({ crm: { urlEnv: 'UNSET_VAR_FOR_TEST' } }, {})('crm')).toThrow(
      /UNSET_VAR_FOR_TEST is not set/,
    );
  });

  it('opens through the registry, sharing one pool until the last source closes', async () => {
    const table = await createTable('id int PRIMARY KEY');
    await admin.query(`INSERT INTO ${table} SELECT generate_series(1, 3)`);
    const ref = PostgresSourceSchema.parse({ kind: 'postgres', connection: 'test', table, key: 'id' });

    await expect(openSource(ref, { boundary })).rejects.toThrow(ConfigError);
    const a = await openSource(ref, { boundary, resolvePostgresConnection: resolve });
    const b = await openSource(ref, { boundary, resolvePostgresConnection: resolve });
    expect(await a.countRows()).toBe(3);
    await a.close?.();
    await a.close?.();
    expect(await b.countRows()).toBe(3);
    await b.close?.();
    const c = await openSource(ref, { boundary, resolvePostgresConnection: resolve });
    opened.push(c);
    expect(await c.countRows()).toBe(3);
  });

  it('reads a range of exactly one page in one query', async () => {
    const table = await createTable('id int PRIMARY KEY');
    await admin.query(`INSERT INTO ${table} SELECT generate_series(1, 1000)`);
    const source = open({ table, key: 'id' });
    const { chunks } = await source.scan(START, [1000]);
    await readChunk(source, chunks[0]!);
    const pool = leasePool(TEST_POSTGRES_URL);
    const query = vi.spyOn(pool.pool, 'query');

    const rows = await readChunk(source, chunks[0]!);

    expect(rows).toHaveLength(1000);
    expect(query).toHaveBeenCalledTimes(1);
    query.mockRestore();
    await pool.release();
  });

  it('streams a 100k-row range page by page instead of loading it', async () => {
    const table = await createTable('id int PRIMARY KEY, email text, payload text');
    await admin.query(
      `INSERT INTO ${table} SELECT i, 'lead' || i || '@example.com', repeat('x', 200) FROM generate_series(1, 100000) AS i`,
    );
    const source = open({ table, key: 'id' });
    const { chunks, done } = await source.scan(START, [100_000]);
    expect(done).toBe(true);
    expect(chunks).toEqual([{ from: '1', to: '100000', firstRow: 1, rows: 100_000 }]);
    const chunk = chunks[0]!;

    let count = 0;
    let expectedId = 1;
    for await (const row of source.read(chunk)) {
      if (Number(values(row).id) !== expectedId++) throw new Error(`row ${row.row} out of order`);
      count++;
    }
    expect(count).toBe(100_000);

    // Rows deleted after the first row arrived are not read: the range was not fetched up front.
    let seen = 0;
    for await (const _ of source.read(chunk)) {
      if (seen++ === 0) await admin.query(`DELETE FROM ${table}`);
    }
    expect(seen).toBeGreaterThan(0);
    expect(seen).toBeLessThan(100_000);
  });
});
