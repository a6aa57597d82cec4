import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { postgresConnectionResolver } from '../../src/sources/postgres-connection.js';
import { RejectsTableRefSchema, type RejectsOwner } from '../../src/core/rejects-ref.js';
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

/** A sync by its workflow id, and the run that prepared it. */
const run = (syncId: string, runId = 'run-1'): RejectsOwner => ({ syncId, runId });

async function readAll(sink: TableRejectsSink, owner: RejectsOwner): Promise<StoredReject[]> {
  const rejects: StoredReject[] = [];
  for await (const reject of sink.read(owner)) rejects.push(reject);
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
    await sink.prepare();

    await sink.writeChunk(run('unnamed'), 1, [unattributedReject(3, 'blocked (block_count)')]);
    await sink.writeChunk(run('unnamed'), 401, [
      { row: 450, reason: 'invalid email' },
      unattributedReject(1, 'bounced'),
    ]);

    expect(await readAll(sink, run('unnamed'))).toEqual([
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
    expect(await sink.report(run('unnamed'))).toMatchObject({ rows: 1 });
  });

  it('names the column to change when a table made elsewhere refuses a NULL row', async () => {
    const name = await schema();
    await admin.query(`CREATE TABLE "${name}".strict (sync_id text NOT NULL, chunk_first_row bigint NOT NULL,
      "row" bigint NOT NULL, field text, reason text NOT NULL, rejected_at timestamptz NOT NULL DEFAULT now())`);
    const sink = open(`${name}.strict`);
    await sink.prepare();

    const err = await failure(sink.writeChunk(run('strict'), 1, [unattributedReject(2, 'blocked')]));

    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/column "row" does not allow NULL.*DROP NOT NULL/);
  });

  it("keeps a table source's key of each rejected row, and reads it back with the row", async () => {
    const sink = open(`${await schema()}.rejects`);
    await sink.prepare();

    await sink.writeChunk(run('keyed'), 1, [
      { row: 2, field: 'Phone', reason: 'taken', key: 'lead-17' },
      { row: 3, reason: 'unreadable row' },
    ]);

    expect(await readAll(sink, run('keyed'))).toEqual([
      { chunkFirstRow: 1, row: 2, field: 'Phone', reason: 'taken', key: 'lead-17' },
      { chunkFirstRow: 1, row: 3, field: undefined, reason: 'unreadable row', key: undefined },
    ]);
  });

  it('creates the table at prepare with the documented columns, and a second prepare is harmless', async () => {
    const table = `${await schema()}.rejects`;
    const sink = open(table);
    await sink.prepare();
    await sink.prepare();

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
      { column_name: 'run_id', data_type: 'text', is_nullable: 'YES' },
      { column_name: 'source_key', data_type: 'text', is_nullable: 'YES' },
    ]);
  });

  it('keeps one report per chunk: a retried chunk replaces its own rejects, and one that rejects nothing clears them', async () => {
    const table = `${await schema()}.rejects`;
    const sink = open(table);
    await sink.prepare();
    // Chunks written out of order, as lanes finish them; chunk 51's first attempt rejects rows its retry lands.
    await sink.writeChunk(run('sync-a'), 51, [
      { row: 52, field: 'EmailAddress', reason: 'not a valid email' },
      { row: 60, reason: 'unreadable row' },
    ]);
    await sink.writeChunk(run('sync-a'), 1, [
      { row: 7, field: 'FirstName', reason: 'too long' },
      { row: 7, field: 'EmailAddress', reason: 'is required' },
      { row: 3, field: 'EmailAddress', reason: "it's 'quoted'; DROP TABLE x; --" },
    ]);
    await sink.writeChunk(run('sync-b'), 1, [{ row: 1, reason: 'another sync' }]);
    await sink.writeChunk(run('sync-a'), 51, [{ row: 60, reason: 'unreadable row' }]);
    await sink.writeChunk(run('sync-a'), 51, [{ row: 60, reason: 'unreadable row' }]);

    expect(await readAll(sink, run('sync-a'))).toEqual([
      { chunkFirstRow: 1, row: 3, field: 'EmailAddress', reason: "it's 'quoted'; DROP TABLE x; --" },
      { chunkFirstRow: 1, row: 7, field: 'EmailAddress', reason: 'is required' },
      { chunkFirstRow: 1, row: 7, field: 'FirstName', reason: 'too long' },
      { chunkFirstRow: 51, row: 60, field: undefined, reason: 'unreadable row' },
    ]);
    // Rows, not lines: row 7 has two bad fields and counts once.
    expect(await sink.report(run('sync-a'))).toEqual({
      connection: 'warehouse',
      table,
      syncId: 'sync-a',
      runId: 'run-1',
      rows: 3,
    });

    await sink.writeChunk(run('sync-a'), 51, []);
    await sink.writeChunk(run('sync-a'), 1, []);
    expect(await readAll(sink, run('sync-a'))).toEqual([]);
    expect(await sink.report(run('sync-a'))).toBeUndefined();
    expect(await readAll(sink, run('sync-b'))).toEqual([
      { chunkFirstRow: 1, row: 1, field: undefined, reason: 'another sync' },
    ]);
  });

  it('reads a large sync back in row order, a page of source rows at a time', async () => {
    const sink = open(`${await schema()}.rejects`);
    await sink.prepare();
    // 40 chunks of 50 rows, written in reverse, every chunk rejecting its 2nd and 50th row: pages cut across them.
    const firstRows = Array.from({ length: 40 }, (_, i) => 1 + i * 50).reverse();
    await Promise.all(
      firstRows.map((first) =>
        sink.writeChunk(run('big'), first, [
          { row: first + 49, reason: 'last' },
          { row: first + 1, reason: 'second' },
        ]),
      ),
    );
    const rows = (await readAll(sink, run('big'))).map((r) => Number(r.row));
    expect(rows).toHaveLength(80);
    expect(rows).toEqual([...rows].sort((a, b) => a - b));
    expect(rows.slice(0, 4)).toEqual([2, 50, 52, 100]);
    expect(await sink.report(run('big'))).toMatchObject({ rows: 80 });
  });

  it('keeps the rejects of a sync that uses a closed sync id again apart by run, and each report names its run', async () => {
    const table = `${await schema()}.rejects`;
    const sink = open(table);
    await sink.prepare();
    await sink.writeChunk(run('again'), 1, [{ row: 2, reason: 'first run' }]);
    await sink.writeChunk(run('other'), 1, [{ row: 2, reason: 'other sync' }]);
    const earlier = await sink.report(run('again'));

    await sink.prepare();
    await sink.writeChunk(run('again', 'run-2'), 1, [{ row: 3, reason: 'second run' }]);

    expect(earlier).toEqual({ connection: 'warehouse', table, syncId: 'again', runId: 'run-1', rows: 1 });
    expect(await sink.report(run('again', 'run-2'))).toEqual({ ...earlier, runId: 'run-2', rows: 1 });
    expect(await readAll(sink, run('again'))).toEqual([
      { chunkFirstRow: 1, row: 2, field: undefined, reason: 'first run' },
    ]);
    expect(await readAll(sink, run('again', 'run-2'))).toEqual([
      { chunkFirstRow: 1, row: 3, field: undefined, reason: 'second run' },
    ]);
    expect(await readAll(sink, run('other'))).toHaveLength(1);
  });

  it('adds run_id to a table made before rejects were kept by run, and keeps writing the syncs prepared then', async () => {
    const schemaName = await schema();
    const table = `${schemaName}.rejects`;
    await admin.query(`CREATE TABLE "${schemaName}".rejects (sync_id text NOT NULL, chunk_first_row bigint NOT NULL,
      "row" bigint, field text, reason text NOT NULL, rejected_at timestamptz NOT NULL DEFAULT now())`);
    await admin.query(`INSERT INTO "${schemaName}".rejects (sync_id, chunk_first_row, "row", reason)
      VALUES ('weekly', 1, 2, 'from a sync prepared before')`);
    const sink = open(table);
    // A sync prepared before this version, still running: it writes and reports by its sync id alone.
    const before = { syncId: 'weekly' };
    await sink.writeChunk(before, 51, [{ row: 52, reason: 'its next chunk' }]);

    await sink.prepare();
    await sink.writeChunk(before, 101, [{ row: 102, reason: 'after the column came' }]);
    await sink.writeChunk(run('weekly'), 1, [{ row: 5, reason: 'a new run of the id' }]);

    const { rows } = await admin.query<{ run_id: string | null; n: string }>(
      `SELECT run_id, count(*) AS n FROM "${schemaName}".rejects GROUP BY run_id ORDER BY run_id NULLS FIRST`,
    );
    expect(rows).toEqual([
      { run_id: null, n: '3' },
      { run_id: 'run-1', n: '1' },
    ]);
    expect(await sink.report(run('weekly'))).toMatchObject({ syncId: 'weekly', runId: 'run-1', rows: 1 });
    expect(await readAll(sink, run('weekly'))).toEqual([
      { chunkFirstRow: 1, row: 5, field: undefined, reason: 'a new run of the id' },
    ]);
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

    // Made before rejects were kept by run, the table lacks run_id, and only its owner may add it.
    const withoutRun = await failure(sink.prepare());
    expect(withoutRun).toBeInstanceOf(ConfigError);
    expect(withoutRun.message).toBe(
      `rejects table ${schemaName}.Rejects (connection 'warehouse'): has no column run_id, which keeps apart the ` +
        `rejects of syncs that use a workflow id again, and this user may not add it: ` +
        `ALTER TABLE "${schemaName}"."Rejects" ADD COLUMN run_id text (as the table's owner)`,
    );
    await admin.query(`ALTER TABLE "${schemaName}"."Rejects" ADD COLUMN run_id text`);
    // Nor source_key, which a retry finds a table source's rows again by.
    const withoutKey = await failure(sink.prepare());
    expect(withoutKey.message).toContain(
      `has no column source_key, which keeps a table source's key of each row, by which \`leadsync rejects retry\` ` +
        `finds it again, and this user may not add it: ALTER TABLE "${schemaName}"."Rejects" ADD COLUMN source_key text`,
    );
    await admin.query(`ALTER TABLE "${schemaName}"."Rejects" ADD COLUMN source_key text`);

    await sink.prepare();
    await sink.writeChunk(run('sync-a'), 1, [{ row: 1, field: 'EmailAddress', reason: 'bad' }]);
    expect(await sink.report(run('sync-a'))).toMatchObject({ rows: 1 });
  });

  it('fails prepare naming the table and connection, as a config error, when the table cannot be made or written', async () => {
    const schemaName = await schema();
    const missingSchema = await failure(open('no_such_schema_leadsync.rejects').prepare());
    expect(missingSchema).toBeInstanceOf(ConfigError);
    expect(missingSchema.message).toMatch(
      /^rejects table no_such_schema_leadsync\.rejects \(connection 'warehouse'\): the schema does not exist/,
    );

    const role = `leadsync_reader_${process.pid}_${Date.now()}`;
    roles.push(role);
    await admin.query(`CREATE TABLE "${schemaName}".readonly (sync_id text, chunk_first_row bigint, "row" bigint,
      field text, reason text, rejected_at timestamptz, run_id text, source_key text)`);
    await admin.query(`CREATE ROLE "${role}" LOGIN`);
    await admin.query(`GRANT USAGE ON SCHEMA "${schemaName}" TO "${role}"`);
    await admin.query(`GRANT SELECT ON "${schemaName}".readonly TO "${role}"`);
    const asReader = postgresConnectionResolver({ warehouse: { url: withUser(TEST_POSTGRES_URL, role) } });
    const readOnly = await failure(open(`${schemaName}.readonly`, asReader).prepare());
    expect(readOnly).toBeInstanceOf(ConfigError);
    expect(readOnly.message).toBe(
      `rejects table ${schemaName}.readonly (connection 'warehouse'): permission denied: this user may not INSERT, DELETE`,
    );
    // Nor may it create one where it has no CREATE privilege.
    const cannotCreate = await failure(open(`${schemaName}.fresh`, asReader).prepare());
    expect(cannotCreate).toBeInstanceOf(ConfigError);
    expect(cannotCreate.message).toContain(
      `rejects table ${schemaName}.fresh (connection 'warehouse'): permission denied`,
    );

    await admin.query(`CREATE TABLE "${schemaName}".unrelated (id bigint)`);
    const wrongShape = await failure(open(`${schemaName}.unrelated`).prepare());
    expect(wrongShape).toBeInstanceOf(ConfigError);
    expect(wrongShape.message).toContain('a column does not exist');
    const { rows: unrelated } = await admin.query(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'unrelated'`,
      [schemaName],
    );
    expect(unrelated).toEqual([{ column_name: 'id' }]);
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
    const unreachable = await failure(open('rejects', down).prepare());
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
