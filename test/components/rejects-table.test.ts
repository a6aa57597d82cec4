import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { postgresConnectionResolver } from '../../src/sources/postgres-connection.js';
import { RejectsTableRefSchema } from '../../src/core/rejects-ref.js';
import { openRejectsSink } from '../../src/rejects/open-sink.js';
import { unattributedReject, type RejectsSink } from '../../src/rejects/types.js';
import { openTableRejectsSink, type StoredReject, type TableRejectsSink } from '../../src/rejects/table.js';
import { FileRejectsSink } from '../../src/rejects/files.js';
import { TEST_POSTGRES_URL } from '../helpers/postgres-table.js';

const resolve = postgresConnectionResolver({ warehouse: { url: TEST_POSTGRES_URL } });

let admin: pg.Client;
const opened: RejectsSink[] = [];
const schemas: string[] = [];
const roles: string[] = [];

beforeAll(async () => {
  admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await admin.connect();
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((sink) => sink.close()));
  for (const schema of schemas.splice(0)) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  for (const role of roles.splice(0)) await admin.query(`DROP ROLE IF EXISTS "${role}"`);
});

afterAll(async () => {
  await admin.end();
});

/** A schema of this test's own, dropped with everything in it after the test. */
async function schema(): Promise<string> {
  const name = `leadsync_rejects_${process.pid}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  schemas.push(name);
  await admin.query(`CREATE SCHEMA "${name}"`);
  return name;
}

function open(table: string, resolver = resolve): TableRejectsSink {
  const sink = openTableRejectsSink(RejectsTableRefSchema.parse({ connection: 'warehouse', table }), resolver);
  opened.push(sink);
  return sink;
}

async function readAll(sink: TableRejectsSink, syncId: string): Promise<StoredReject[]> {
  const rejects: StoredReject[] = [];
  for await (const reject of sink.read(syncId)) rejects.push(reject);
  return rejects;
}

async function failure(work: Promise<unknown>): Promise<Error> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  return err as Error;
}

describe('the rejects table sink', () => {
  it('keeps rows the vendor refused without naming them as a line with a NULL row, a report of its own', async () => {
    const sink = open(`${await schema()}.rejects`);
    await sink.prepare('unnamed');

    await sink.writeChunk('unnamed', 1, [unattributedReject(3, 'blocked (block_count)')]);
    await sink.writeChunk('unnamed', 401, [{ row: 450, reason: 'invalid email' }, unattributedReject(1, 'bounced')]);

    expect(await readAll(sink, 'unnamed')).toEqual([
      {
        chunkFirstRow: 1,
        row: undefined,
        field: undefined,
        reason: '3 rows refused by the vendor, not named: blocked (block_count)',
      },
      { chunkFirstRow: 401, row: 450, field: undefined, reason: 'invalid email' },
      {
        chunkFirstRow: 401,
        row: undefined,
        field: undefined,
        reason: '1 row refused by the vendor, not named: bounced',
      },
    ]);
    // `rows` counts the rows named; the unnamed ones are in the sync's counts (unattributed).
    expect(await sink.report('unnamed')).toMatchObject({ rows: 1 });
  });

  it('names the column to change when a table made elsewhere refuses a NULL row', async () => {
    const name = await schema();
    await admin.query(`CREATE TABLE "${name}".strict (sync_id text NOT NULL, chunk_first_row bigint NOT NULL,
      "row" bigint NOT NULL, field text, reason text NOT NULL, rejected_at timestamptz NOT NULL DEFAULT now())`);
    const sink = open(`${name}.strict`);
    await sink.prepare('strict');

    const err = await failure(sink.writeChunk('strict', 1, [unattributedReject(2, 'blocked')]));

    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/column "row" does not allow NULL.*DROP NOT NULL/);
  });

  it('creates the table at prepare with the documented columns, and a second prepare is harmless', async () => {
    const table = `${await schema()}.rejects`;
    const sink = open(table);
    await sink.prepare('sync-a');
    await sink.prepare('sync-a');

    const { rows } = await admin.query<{ column_name: string; data_type: string; is_nullable: string }>(
      `SELECT column_name, data_type, is_nullable FROM information_schema.columns
       WHERE table_schema = $1 AND table_name = 'rejects' ORDER BY ordinal_position`,
      [table.split('.')[0]],
    );
    expect(rows).toEqual([
      { column_name: 'sync_id', data_type: 'text', is_nullable: 'NO' },
      { column_name: 'chunk_first_row', data_type: 'bigint', is_nullable: 'NO' },
      { column_name: 'row', data_type: 'bigint', is_nullable: 'YES' },
      { column_name: 'field', data_type: 'text', is_nullable: 'YES' },
      { column_name: 'reason', data_type: 'text', is_nullable: 'NO' },
      { column_name: 'rejected_at', data_type: 'timestamp with time zone', is_nullable: 'NO' },
    ]);
  });

  it('keeps one report per chunk: a retried chunk replaces its own rejects, and one that rejects nothing clears them', async () => {
    const table = `${await schema()}.rejects`;
    const sink = open(table);
    await sink.prepare('sync-a');
    // Chunks written out of order, as lanes finish them; chunk 51's first attempt rejects rows its retry lands.
    await sink.writeChunk('sync-a', 51, [
      { row: 52, field: 'EmailAddress', reason: 'not a valid email' },
      { row: 60, reason: 'unreadable row' },
    ]);
    await sink.writeChunk('sync-a', 1, [
      { row: 7, field: 'FirstName', reason: 'too long' },
      { row: 7, field: 'EmailAddress', reason: 'is required' },
      { row: 3, field: 'EmailAddress', reason: "it's 'quoted'; DROP TABLE x; --" },
    ]);
    await sink.writeChunk('sync-b', 1, [{ row: 1, reason: 'another sync' }]);
    await sink.writeChunk('sync-a', 51, [{ row: 60, reason: 'unreadable row' }]);
    await sink.writeChunk('sync-a', 51, [{ row: 60, reason: 'unreadable row' }]);

    expect(await readAll(sink, 'sync-a')).toEqual([
      { chunkFirstRow: 1, row: 3, field: 'EmailAddress', reason: "it's 'quoted'; DROP TABLE x; --" },
      { chunkFirstRow: 1, row: 7, field: 'EmailAddress', reason: 'is required' },
      { chunkFirstRow: 1, row: 7, field: 'FirstName', reason: 'too long' },
      { chunkFirstRow: 51, row: 60, field: undefined, reason: 'unreadable row' },
    ]);
    // Rows, not lines: row 7 has two bad fields and counts once.
    expect(await sink.report('sync-a')).toEqual({
      connection: 'warehouse',
      table,
      syncId: 'sync-a',
      rows: 3,
    });

    await sink.writeChunk('sync-a', 51, []);
    await sink.writeChunk('sync-a', 1, []);
    expect(await readAll(sink, 'sync-a')).toEqual([]);
    expect(await sink.report('sync-a')).toBeUndefined();
    expect(await readAll(sink, 'sync-b')).toEqual([
      { chunkFirstRow: 1, row: 1, field: undefined, reason: 'another sync' },
    ]);
  });

  it('reads a large sync back in row order, a page of source rows at a time', async () => {
    const sink = open(`${await schema()}.rejects`);
    await sink.prepare('big');
    // 40 chunks of 50 rows, written in reverse, every chunk rejecting its 2nd and 50th row: pages cut across them.
    const firstRows = Array.from({ length: 40 }, (_, i) => 1 + i * 50).reverse();
    await Promise.all(
      firstRows.map((first) =>
        sink.writeChunk('big', first, [
          { row: first + 49, reason: 'last' },
          { row: first + 1, reason: 'second' },
        ]),
      ),
    );
    const rows = (await readAll(sink, 'big')).map((r) => Number(r.row));
    expect(rows).toHaveLength(80);
    expect(rows).toEqual([...rows].sort((a, b) => a - b));
    expect(rows.slice(0, 4)).toEqual([2, 50, 52, 100]);
    expect(await sink.report('big')).toMatchObject({ rows: 80 });
  });

  it('clears what an earlier run of the same sync id left at prepare, and nothing of other syncs', async () => {
    const sink = open(`${await schema()}.rejects`);
    await sink.prepare('again');
    await sink.writeChunk('again', 1, [{ row: 2, reason: 'first run' }]);
    await sink.writeChunk('other', 1, [{ row: 2, reason: 'other sync' }]);

    await sink.prepare('again');
    expect(await readAll(sink, 'again')).toEqual([]);
    expect(await readAll(sink, 'other')).toHaveLength(1);
  });

  it('takes a table its user may write but not create, made beforehand by someone else', async () => {
    const schemaName = await schema();
    const role = `leadsync_writer_${process.pid}_${Date.now()}`;
    roles.push(role);
    await admin.query(`CREATE TABLE "${schemaName}"."Rejects" (sync_id text NOT NULL, chunk_first_row bigint NOT NULL,
      "row" bigint NOT NULL, field text, reason text NOT NULL, rejected_at timestamptz NOT NULL DEFAULT now())`);
    await admin.query(`CREATE ROLE "${role}" LOGIN`);
    await admin.query(`GRANT USAGE ON SCHEMA "${schemaName}" TO "${role}"`);
    await admin.query(`GRANT SELECT, INSERT, DELETE ON "${schemaName}"."Rejects" TO "${role}"`);
    const asRole = postgresConnectionResolver({ warehouse: { url: withUser(TEST_POSTGRES_URL, role) } });

    // Names keep their case: "Rejects", not rejects.
    const sink = open(`${schemaName}.Rejects`, asRole);
    await sink.prepare('sync-a');
    await sink.writeChunk('sync-a', 1, [{ row: 1, field: 'EmailAddress', reason: 'bad' }]);
    expect(await sink.report('sync-a')).toMatchObject({ rows: 1 });
  });

  it('fails prepare naming the table and connection, as a config error, when the table cannot be made or written', async () => {
    const schemaName = await schema();
    const missingSchema = await failure(open('no_such_schema_leadsync.rejects').prepare('s'));
    expect(missingSchema).toBeInstanceOf(ConfigError);
    expect(missingSchema.message).toMatch(
      /^rejects table no_such_schema_leadsync\.rejects \(connection 'warehouse'\): the schema does not exist/,
    );

    const role = `leadsync_reader_${process.pid}_${Date.now()}`;
    roles.push(role);
    await admin.query(`CREATE TABLE "${schemaName}".readonly (sync_id text, chunk_first_row bigint, "row" bigint,
      field text, reason text, rejected_at timestamptz)`);
    await admin.query(`CREATE ROLE "${role}" LOGIN`);
    await admin.query(`GRANT USAGE ON SCHEMA "${schemaName}" TO "${role}"`);
    await admin.query(`GRANT SELECT ON "${schemaName}".readonly TO "${role}"`);
    const asReader = postgresConnectionResolver({ warehouse: { url: withUser(TEST_POSTGRES_URL, role) } });
    const readOnly = await failure(open(`${schemaName}.readonly`, asReader).prepare('s'));
    expect(readOnly).toBeInstanceOf(ConfigError);
    expect(readOnly.message).toBe(
      `rejects table ${schemaName}.readonly (connection 'warehouse'): permission denied: this user may not INSERT, DELETE`,
    );
    // Nor may it create one where it has no CREATE privilege.
    const cannotCreate = await failure(open(`${schemaName}.fresh`, asReader).prepare('s'));
    expect(cannotCreate).toBeInstanceOf(ConfigError);
    expect(cannotCreate.message).toContain(
      `rejects table ${schemaName}.fresh (connection 'warehouse'): permission denied`,
    );

    await admin.query(`CREATE TABLE "${schemaName}".unrelated (id bigint)`);
    const wrongShape = await failure(open(`${schemaName}.unrelated`).prepare('s'));
    expect(wrongShape).toBeInstanceOf(ConfigError);
    expect(wrongShape.message).toContain('a column does not exist');
  });

  it('names the table when its connection is not configured or cannot be reached', async () => {
    const unknown = await failure(
      (async () => openTableRejectsSink({ connection: 'nowhere', table: 'rejects' }, postgresConnectionResolver({})))(),
    );
    expect(unknown).toBeInstanceOf(ConfigError);
    expect(unknown.message).toBe(
      "rejects table rejects (connection 'nowhere'): no PostgreSQL connection named 'nowhere' in the config (configured: none)",
    );

    // Nothing listens on port 1: worth another attempt (not a config error), and the message says where.
    const down = postgresConnectionResolver({ warehouse: { url: 'postgres://nobody@127.0.0.1:1/test' } });
    const unreachable = await failure(open('rejects', down).prepare('s'));
    expect(unreachable).not.toBeInstanceOf(ConfigError);
    expect(unreachable.message).toMatch(/^rejects table rejects \(connection 'warehouse'\): .*ECONNREFUSED/);
  });

  it('is the sink a reference with a table names; without one, the files under the directory', () => {
    const file = openRejectsSink({ rejectsDirectory: '/tmp/rejects' }, { resolvePostgresConnection: resolve });
    expect(file).toBeInstanceOf(FileRejectsSink);
    const table = openRejectsSink(
      { rejectsDirectory: '/tmp/rejects', rejectsTable: { connection: 'warehouse', table: 'public.rejects' } },
      { resolvePostgresConnection: resolve },
    );
    opened.push(table);
    expect(table.constructor.name).toBe('TableRejectsSink');
    // A reference that crossed Temporal is checked again before it reaches SQL.
    expect(() =>
      openRejectsSink(
        { rejectsDirectory: '/tmp', rejectsTable: { connection: 'warehouse', table: 'x"; DROP TABLE y; --' } },
        { resolvePostgresConnection: resolve },
      ),
    ).toThrow(/invalid rejects table reference:\n {2}- table: must be a table name/);
  });
});

function withUser(url: string, user: string): string {
  const parsed = new globalThis.URL(url);
  parsed.username = user;
  return parsed.toString();
}
