import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSync } from '../../src/api/syncs.js';
import type { SyncResult } from '../../src/core/contract.js';
import type { ShownReject } from '../../src/rejects/runs-failed.js';
import type { Reject } from '../../src/rejects/types.js';
import { TEST_CONNECTION, TEST_POSTGRES_URL, withTestDatabase } from '../helpers/postgres-table.js';
import { leadSquaredSyncFixture } from '../helpers/sync-harness.js';
import { uniqueName } from '../helpers/temporal.js';

import {
  ACCOUNT,
  cliJson,
  clearPhones,
  collect,
  seedPhoneHolders,
  tableRejects,
  writesByLead,
  type Listed,
} from '../helpers/rejects-harness.js';

describe('leadsync rejects of a PostgreSQL sync with a rejects table: rows found again by their key', () => {
  const rejectsTable = `public.${uniqueName('rejects').replace(/[^A-Za-z0-9_]/g, '_')}`;
  // The row store on the rejects table's database: `rejects show` joins the two.
  const store = `public.${uniqueName('rows').replace(/[^A-Za-z0-9_]/g, '_')}`;
  const fixture = leadSquaredSyncFixture(ACCOUNT, (setup) =>
    withTestDatabase(setup, {
      rejects: { table: { connection: TEST_CONNECTION, table: rejectsTable } },
      convergence: { table: { connection: TEST_CONNECTION, table: store } },
    }),
  );
  const source = `leads_${process.pid}_${Date.now()}`;
  let admin: pg.Client;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
  });

  afterEach(async () => {
    await admin.query(`DROP TABLE IF EXISTS ${source}`);
    await admin.query(`DROP TABLE IF EXISTS ${rejectsTable}`);
  });

  afterAll(async () => {
    await admin?.query(`DROP TABLE IF EXISTS ${store}`);
    await admin?.end();
  });

  it('keeps the key of each rejected row, shows it, and a retry after the table changed lands exactly those rows', async () => {
    const phones = ['+1-555-0401', '+1-555-0402'];
    const holders = await seedPhoneHolders(fixture, phones);
    const email = (id: number) => `${source}-${id}@example.com`;
    await admin.query(
      `CREATE TABLE ${source} (id bigint PRIMARY KEY, "EmailAddress" text, "FirstName" text, "Phone" text)`,
    );
    // Keys 110..200 by ten: 130 and 150 want a phone another lead holds, 170's email is not one.
    await admin.query(
      `INSERT INTO ${source} SELECT i, CASE WHEN i = 170 THEN 'not-an-email' ELSE $1 || '-' || i || '@example.com' END,
         'First' || i, CASE i WHEN 130 THEN $2 WHEN 150 THEN $3 ELSE '+1-555-05' || i END
       FROM generate_series(110, 200, 10) AS i`,
      [source, ...phones],
    );
    const sync = await startSync(
      fixture.client,
      {
        account: fixture.setup.accountName,
        source: { kind: 'postgres', connection: TEST_CONNECTION, table: `public.${source}`, key: 'id' },
        mapping: { EmailAddress: 'EmailAddress', FirstName: 'FirstName', Phone: 'Phone' },
      },
      { taskQueue: fixture.setup.taskQueue },
    );
    expect(await sync.result()).toMatchObject({ read: 10, accepted: 7, rejected: 3 });

    const [listed] = await cliJson<Listed[]>(fixture, ['rejects', 'list', sync.workflowId]);
    expect(listed).toEqual([
      expect.objectContaining({
        runId: sync.firstExecutionRunId,
        rejected: 3,
        report: { table: expect.objectContaining({ table: rejectsTable, runId: sync.firstExecutionRunId }) },
      }),
    ]);
    expect(await cliJson<Reject>(fixture, ['rejects', 'show', sync.workflowId])).toEqual([
      { row: 3, key: '130', field: 'Phone', reason: expect.stringContaining('same Phone Number') },
      { row: 5, key: '150', field: 'Phone', reason: expect.stringContaining('same Phone Number') },
      { row: 7, key: '170', field: 'EmailAddress', reason: expect.stringContaining('not a valid email') },
    ]);

    // The table changes: new rows before them move every row number, and row 150 is deleted.
    await admin.query(
      `INSERT INTO ${source} SELECT i, $1 || '-' || i || '@example.com', 'New' || i, '+1-555-06' || i
       FROM generate_series(1, 5) AS i`,
      [source],
    );
    await admin.query(`DELETE FROM ${source} WHERE id = 150`);
    await clearPhones(fixture, holders);
    const retryId = `${sync.workflowId}-again`;
    const [retried] = await cliJson<SyncResult>(fixture, ['rejects', 'retry', sync.workflowId, '--id', retryId]);

    // 130 lands; 150 left the table and 170 is still bad: both are the retry's rejects, under their first row numbers.
    expect(retried).toMatchObject({ totalRows: 3, read: 3, accepted: 1, rejected: 2 });
    const writes = writesByLead(fixture);
    expect(writes.get(email(130))).toBe(2);
    for (const id of [110, 120, 140, 160, 180, 190, 200]) expect(writes.get(email(id))).toBe(1);
    for (const id of [1, 2, 3, 4, 5]) expect(writes.has(email(id))).toBe(false);
    expect(retried!.rejectsTable).toMatchObject({ syncId: retryId, rows: 2 });
    expect(await collect(tableRejects(retried!.rejectsTable!))).toEqual([
      expect.objectContaining({ row: 5, reason: expect.stringContaining('with key 150 is no longer in the table') }),
      expect.objectContaining({ row: 7, key: '170', field: 'EmailAddress' }),
    ]);
  }, 120_000);

  it('shows how many runs each rejected row of a recurring table has failed, joined from the row store', async () => {
    await seedPhoneHolders(fixture, ['+1-555-0801', '+1-555-0802']);
    await admin.query(
      `CREATE TABLE ${source} (id bigint PRIMARY KEY, "EmailAddress" text, "FirstName" text, "Phone" text,
                               updated_at timestamptz NOT NULL DEFAULT '2024-12-01T00:00:00Z')`,
    );
    // Keys 1..8: 3 and 5 want a phone another lead holds, 7's email is not one.
    await admin.query(
      `INSERT INTO ${source} ("id", "EmailAddress", "FirstName", "Phone")
       SELECT i, CASE WHEN i = 7 THEN 'not-an-email' ELSE $1 || '-' || i || '@example.com' END, 'First' || i,
              CASE i WHEN 3 THEN '+1-555-0801' WHEN 5 THEN '+1-555-0802' ELSE '+1-555-09' || i END
       FROM generate_series(1, 8) AS i`,
      [source],
    );
    const input = {
      account: fixture.setup.accountName,
      source: {
        kind: 'postgres' as const,
        connection: TEST_CONNECTION,
        table: `public.${source}`,
        key: 'id',
        cursorColumn: 'updated_at',
      },
      mapping: { EmailAddress: 'EmailAddress', FirstName: 'FirstName', Phone: 'Phone' },
    };
    const first = await startSync(fixture.client, input, { taskQueue: fixture.setup.taskQueue });
    expect(await first.result()).toMatchObject({ read: 8, accepted: 5, rejected: 3 });
    // Row 5 leaves the table; the next run sends 3 again (refused again) and leaves 7 until it changes.
    await admin.query(`DELETE FROM ${source} WHERE id = 5`);
    const second = await startSync(fixture.client, input, { taskQueue: fixture.setup.taskQueue });
    expect(await second.result()).toMatchObject({ accepted: 0, rejected: 1, retrySet: { size: 2 } });

    const shownFirst = await cliJson<ShownReject>(fixture, ['rejects', 'show', first.workflowId]);
    const shownSecond = await cliJson<ShownReject>(fixture, ['rejects', 'show', second.workflowId]);

    const phone = { field: 'Phone', reason: expect.stringContaining('same Phone Number') };
    expect(shownFirst).toEqual([
      { row: 3, key: '3', ...phone, runsFailed: 2 },
      // Gone from the table, and from the row store: no count.
      { row: 5, key: '5', ...phone },
      { row: 7, key: '7', field: 'EmailAddress', reason: expect.stringContaining('not a valid email'), runsFailed: 1 },
    ]);
    expect(shownSecond).toEqual([{ row: expect.any(Number), key: '3', ...phone, runsFailed: 2 }]);
  }, 120_000);
});
