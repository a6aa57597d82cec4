import { WorkflowFailedError } from '@temporalio/client';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { summary } from '../../src/cli/follow.js';
import { callsPerChunk } from '../../src/core/chunk-size.js';
import { startSync } from '../../src/api/syncs.js';
import { postgresConnectionResolver } from '../../src/sources/postgres-connection.js';
import type { RejectsOwner } from '../../src/core/rejects-ref.js';
import { openTableRejectsSink, type StoredReject } from '../../src/rejects/table.js';
import { TEST_CONNECTION, TEST_POSTGRES_URL, withTestDatabase } from '../helpers/postgres-table.js';
import { LEAD_HEADER, csvLines, leadRows, leadSquaredSyncFixture, writeCsv } from '../helpers/sync-harness.js';
import { auditWrites } from '../helpers/write-counts.js';

// A general lane of 50 calls a second, one row a call: a chunk carries CHUNK_ROWS calls, so each chunk below has one bad
// row to report beside good rows to send, and a lost answer to any of its calls retries the whole chunk.
const window = { limit: 50, seconds: 1 };
const CHUNK_ROWS = callsPerChunk(window.limit / window.seconds);

describe('a sync whose config sends rejects to a PostgreSQL table', () => {
  // The config names a table in a schema the tests create and drop: absent, prepare cannot make the table.
  const schema = `leadsync_rejects_it_${process.pid}_${Date.now()}`;
  const table = `${schema}.sync_rejects`;
  const fixture = leadSquaredSyncFixture(
    {
      plan: 'custom',
      simulator: { plan: { general: [window], bulk: [window] } },
      account: { lanes: { general: { windows: [window], rowsPerCall: 1 } } },
    },
    (setup) => withTestDatabase(setup, { rejects: { table: { connection: TEST_CONNECTION, table } } }),
  );
  let admin: pg.Client;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
  });

  afterEach(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    fixture.setup.simulator.setFaults({});
    fixture.setup.simulator.reset();
  });

  afterAll(async () => {
    await admin?.end();
  });

  async function storedRejects(owner: RejectsOwner): Promise<StoredReject[]> {
    const sink = openTableRejectsSink(
      { connection: TEST_CONNECTION, table },
      postgresConnectionResolver(fixture.setup.config.postgresConnections),
    );
    try {
      const rejects: StoredReject[] = [];
      for await (const reject of sink.read(owner)) rejects.push(reject);
      return rejects;
    } finally {
      await sink.close();
    }
  }

  it('fails at prepare, naming the table and connection, before any vendor call when the table cannot be made', async () => {
    const file = await writeCsv(fixture.setup.directory, 'few.csv', LEAD_HEADER, csvLines(leadRows(3)));
    const handle = await startSync(
      fixture.client,
      { account: fixture.setup.accountName, source: { kind: 'csv', path: file } },
      { taskQueue: fixture.setup.taskQueue },
    );

    const failure = await handle.result().catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const cause = (failure as WorkflowFailedError).cause?.cause as (Error & { type?: string }) | undefined;
    expect(cause?.type).toBe('ConfigError');
    expect(cause?.message).toContain(
      `rejects table ${table} (connection '${TEST_CONNECTION}'): the schema does not exist`,
    );
    expect(fixture.setup.simulator.report({ requests: false }).totals.requests).toBe(0);
  }, 60_000);

  it('writes every bad row to the table once, through retried chunks, and the result says where they are', async () => {
    await admin.query(`CREATE SCHEMA "${schema}"`);
    const good = leadRows(20 * (CHUNK_ROWS - 1));
    // The third row of each chunk is bad, beside good rows whose calls may lose their answer.
    const lines: string[] = [];
    const bad: number[] = [];
    for (let chunk = 0; chunk < 20; chunk++) {
      const rows = csvLines(good.slice(chunk * (CHUNK_ROWS - 1), (chunk + 1) * (CHUNK_ROWS - 1)));
      lines.push(...rows.slice(0, 2), `not-an-email-${chunk},Bad,Row`, ...rows.slice(2));
      bad.push(chunk * CHUNK_ROWS + 3);
    }
    const file = await writeCsv(fixture.setup.directory, 'mixed.csv', LEAD_HEADER, lines);
    // One answer in ten vanishes after the vendor acted: most chunks run again, and report their bad row again.
    fixture.setup.simulator.setFaults({ lostResponseRate: 0.1, seed: 11 });

    const handle = await startSync(
      fixture.client,
      { account: fixture.setup.accountName, source: { kind: 'csv', path: file } },
      { taskQueue: fixture.setup.taskQueue },
    );
    const result = await handle.result();

    expect(result).toMatchObject({
      totalRows: 20 * CHUNK_ROWS,
      read: 20 * CHUNK_ROWS,
      accepted: good.length,
      rejected: 20,
    });
    expect(result.retried).toBeGreaterThan(0);
    expect(result.rejectsFile).toBeUndefined();
    const owner = { syncId: handle.workflowId, runId: handle.firstExecutionRunId };
    expect(result.rejectsTable).toEqual({ connection: TEST_CONNECTION, table, ...owner, rows: 20 });
    const stored = await storedRejects(owner);
    expect(stored.map(({ row, field }) => ({ row, field }))).toEqual(
      bad.map((row) => ({ row, field: 'EmailAddress' })),
    );
    // Every bad row was in a chunk of its own, beside good rows: a retried chunk is one that reported a reject again.
    expect(new Set(stored.map((reject) => reject.chunkFirstRow)).size).toBe(bad.length);
    for (const reject of stored) {
      expect(reject.reason).toContain('not a valid email');
      expect(reject.chunkFirstRow).toBeLessThanOrEqual(Number(reject.row));
    }
    const report = fixture.setup.simulator.report({ requests: false });
    expect(report.totals.faults).toBeGreaterThan(0);
    expect(report.leads.count).toBe(good.length);
    // A lead is sent again once for each write of it whose answer was lost, and for nothing else.
    const writes = auditWrites(fixture.setup.simulator);
    expect(writes.duplicates).toEqual([]);
    expect(writes.resent).toBe(writes.unanswered);
    expect(summary(result)).toContain(
      `rejects: 20 rows in table ${table} (connection ${TEST_CONNECTION}), ` +
        `WHERE sync_id = '${handle.workflowId}' AND run_id = '${handle.firstExecutionRunId}'`,
    );

    // A new sync under the closed sync's workflow id keeps its rejects apart, and leaves the earlier ones as they were.
    fixture.setup.simulator.setFaults({});
    const again = await writeCsv(fixture.setup.directory, 'again.csv', LEAD_HEADER, [
      ...csvLines(leadRows(2)),
      'not-an-email-again,Bad,Row',
    ]);
    const second = await startSync(
      fixture.client,
      { account: fixture.setup.accountName, source: { kind: 'csv', path: again } },
      { taskQueue: fixture.setup.taskQueue, workflowId: handle.workflowId },
    );
    const secondOwner = { syncId: handle.workflowId, runId: second.firstExecutionRunId };
    expect((await second.result()).rejectsTable).toEqual({
      connection: TEST_CONNECTION,
      table,
      ...secondOwner,
      rows: 1,
    });
    expect((await storedRejects(secondOwner)).map(({ row }) => row)).toEqual([3]);
    expect(await storedRejects(owner)).toEqual(stored);
  }, 120_000);
});
