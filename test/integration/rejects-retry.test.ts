import { appendFile } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSyncSchedule, triggerSyncSchedule } from '../../src/api/schedules.js';
import { cancelSync, pauseSync, startSync } from '../../src/api/syncs.js';
import type { SyncResult } from '../../src/core/contract.js';
import type { Reject } from '../../src/rejects/types.js';
import { rejectingRun } from '../../src/api/rejects.js';
import { ConfigError } from '../../src/core/errors.js';
import type { RejectsTableReport } from '../../src/core/rejects-ref.js';
import { readRejectsReport } from '../../src/rejects/files.js';
import { openTableRejectsSink } from '../../src/rejects/table.js';
import { postgresConnectionResolver } from '../../src/sources/postgres-connection.js';
import { TEST_CONNECTION, TEST_POSTGRES_URL, withTestDatabase } from '../helpers/postgres-table.js';
import { eventually, leadsync } from '../helpers/run-cli.js';
import { leadSquaredSyncFixture, writeCsv, type LeadSquaredSyncFixture } from '../helpers/sync-harness.js';
import { uniqueName } from '../helpers/temporal.js';
import { auditWrites } from '../helpers/write-counts.js';

// Fifty calls a second, a lead a call: a few dozen rows take a second or two.
const window = { limit: 50, seconds: 1 };
const ACCOUNT = {
  plan: 'custom',
  simulator: { plan: { general: [window], bulk: [window] } },
  account: { lanes: { general: { windows: [window], rowsPerCall: 1 } } },
};
const HEADER = ['EmailAddress', 'FirstName', 'Phone'];

interface Listed {
  syncId: string;
  runId: string;
  rejected: number;
  report: { file: string } | { table: { table: string; runId: string } };
}

/** `leadsync <args> --json` with the account's credentials and config, parsed line by line. */
async function cliJson<T>(fixture: LeadSquaredSyncFixture, args: string[]): Promise<T[]> {
  const ran = await leadsync([...args, '--json'], { ...fixture.setup.env, LEADSYNC_CONFIG: fixture.setup.configPath });
  expect(ran.code, ran.stderr).toBe(0);
  return ran.stdout
    .trim()
    .split('\n')
    .filter((line) => line)
    .map((line) => JSON.parse(line) as T);
}

/** Leads holding phones the rows under test will want: the vendor refuses a second lead with the same phone. */
async function seedPhoneHolders(fixture: LeadSquaredSyncFixture, phones: string[]): Promise<string[]> {
  const holders = phones.map((_, i) => `${uniqueName('holder')}-${i}@example.com`);
  const file = await writeCsv(
    fixture.setup.directory,
    `${uniqueName('holders')}.csv`,
    HEADER,
    holders.map((email, i) => `${email},Holder,${phones[i]}`),
  );
  const seeded = await startSync(
    fixture.client,
    { account: fixture.setup.accountName, source: { kind: 'csv', path: file } },
    { taskQueue: fixture.setup.taskQueue },
  );
  expect(await seeded.result()).toMatchObject({ accepted: phones.length, rejected: 0 });
  return holders;
}

/** The conflict cleaned up at the vendor, as a person would in its UI: the leads holding the phones deleted. */
async function clearPhones(fixture: LeadSquaredSyncFixture, holders: string[]): Promise<void> {
  for (const email of holders) {
    const answer = await fetch(`${fixture.setup.simulator.adminUrl}/leads/delete`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email }),
    });
    expect(await answer.json()).toEqual({ ok: true });
  }
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/** A run's rows of the rejects table, read back as `rejects show` reads them. */
async function* tableRejects(report: RejectsTableReport): AsyncGenerator<Reject> {
  const sink = openTableRejectsSink(
    report,
    postgresConnectionResolver({ [TEST_CONNECTION]: { url: TEST_POSTGRES_URL } }),
  );
  try {
    yield* sink.read(report);
  } finally {
    await sink.close();
  }
}

/** How many API writes (accepted or refused) reached each lead, by email. */
function writesByLead(fixture: LeadSquaredSyncFixture): Map<string, number> {
  return auditWrites(fixture.setup.simulator).times;
}

describe('leadsync rejects of a CSV sync: list, show, and a retry of exactly the rows rejected', () => {
  const fixture = leadSquaredSyncFixture(ACCOUNT);

  it('lists and shows the rows leadsync and the vendor refused, and once the vendor is fixed lands exactly those', async () => {
    const phones = ['+1-555-0101', '+1-555-0102'];
    const holders = await seedPhoneHolders(fixture, phones);
    const prefix = uniqueName('csv');
    const email = (row: number) => `${prefix}-${row}@example.com`;
    // Rows 3 and 5 want a phone another lead holds (the vendor refuses them); row 7's email is not one (leadsync does).
    const lines = Array.from({ length: 10 }, (_, i) => {
      const row = i + 1;
      if (row === 7) return `not-an-email-${prefix},Bad,+1-555-0107`;
      return `${email(row)},First${row},${row === 3 ? phones[0] : row === 5 ? phones[1] : `+1-555-02${row}`}`;
    });
    const file = await writeCsv(fixture.setup.directory, `${prefix}.csv`, HEADER, lines);
    const sync = await startSync(
      fixture.client,
      { account: fixture.setup.accountName, source: { kind: 'csv', path: file } },
      { taskQueue: fixture.setup.taskQueue },
    );
    expect(await sync.result()).toMatchObject({ read: 10, accepted: 7, rejected: 3 });

    const [listed] = await cliJson<Listed[]>(fixture, ['rejects', 'list', sync.workflowId]);
    expect(listed).toEqual([
      expect.objectContaining({
        syncId: sync.workflowId,
        runId: sync.firstExecutionRunId,
        rejected: 3,
        report: { file: expect.stringContaining(`${sync.firstExecutionRunId}.rejects.csv`) },
      }),
    ]);
    const shown = await cliJson<Reject>(fixture, ['rejects', 'show', sync.workflowId]);
    expect(shown).toEqual([
      { row: 3, field: 'Phone', reason: expect.stringContaining('same Phone Number') },
      { row: 5, field: 'Phone', reason: expect.stringContaining('same Phone Number') },
      { row: 7, field: 'EmailAddress', reason: expect.stringContaining('not a valid email') },
    ]);

    await clearPhones(fixture, holders);
    const retryId = `${sync.workflowId}-again`;
    const [retried] = await cliJson<SyncResult>(fixture, ['rejects', 'retry', sync.workflowId, '--id', retryId]);

    // The two rows the vendor refused land; the bad email is still bad, and is the retry's reject, by its row.
    expect(retried).toMatchObject({ totalRows: 3, read: 3, accepted: 2, rejected: 1 });
    const vendorLeads = new Map(fixture.setup.simulator.leads().map((lead) => [lead.email.toLowerCase(), lead]));
    for (const row of [1, 2, 3, 4, 5, 6, 8, 9, 10]) expect(vendorLeads.get(email(row))?.writes).toBe(1);
    // Nothing else was sent again: the refused rows were sent twice (refused, then landed), every other row once.
    const writes = writesByLead(fixture);
    for (const row of [1, 2, 4, 6, 8, 9, 10]) expect(writes.get(email(row))).toBe(1);
    for (const row of [3, 5]) expect(writes.get(email(row))).toBe(2);
    for (const holder of holders) expect(writes.get(holder.toLowerCase())).toBe(1);
    expect(await collect(readRejectsReport(retried!.rejectsFile!))).toEqual([
      { row: 7, field: 'EmailAddress', reason: expect.stringContaining('not a valid email') },
    ]);
  }, 120_000);

  it("lists the runs of a schedule that rejected rows, each under its sync's id", async () => {
    const prefix = uniqueName('scheduled');
    const file = await writeCsv(fixture.setup.directory, `${prefix}.csv`, HEADER, [
      `${prefix}-1@example.com,One,+1-555-0701`,
      `not-an-email-${prefix},Bad,+1-555-0702`,
    ]);
    const schedule = await createSyncSchedule(fixture.client, {
      scheduleId: prefix,
      input: { account: fixture.setup.accountName, source: { kind: 'csv', path: file } },
      every: '1h',
      taskQueue: fixture.setup.taskQueue,
      paused: true,
    });
    try {
      await triggerSyncSchedule(schedule);
      const run = await eventually(
        async () => (await schedule.describe()).info.recentActions[0]?.action.workflow.workflowId,
        (id) => id !== undefined,
      );
      await fixture.client.workflow.getHandle(run!).result();

      // Visibility learns of the run's end a moment after it.
      const listed = await eventually(
        () => cliJson<Listed[]>(fixture, ['rejects', 'list', prefix]),
        ([runs]) => runs!.length > 0,
      );

      expect(listed[0]).toEqual([expect.objectContaining({ syncId: `${run}-sync`, rejected: 1 })]);
    } finally {
      await schedule.delete();
    }
  }, 120_000);

  it('refuses to retry the rows of a file changed since, naming it, and a sync that rejected nothing or is unknown', async () => {
    const prefix = uniqueName('changed');
    const file = await writeCsv(fixture.setup.directory, `${prefix}.csv`, HEADER, [
      `${prefix}-1@example.com,One,+1-555-0301`,
      `not-an-email-${prefix},Bad,+1-555-0302`,
    ]);
    const sync = await startSync(
      fixture.client,
      { account: fixture.setup.accountName, source: { kind: 'csv', path: file } },
      { taskQueue: fixture.setup.taskQueue },
    );
    expect(await sync.result()).toMatchObject({ accepted: 1, rejected: 1 });
    await appendFile(file, `${prefix}-3@example.com,Three,+1-555-0303\n`);
    const env = { ...fixture.setup.env, LEADSYNC_CONFIG: fixture.setup.configPath };

    const changed = await leadsync(['rejects', 'retry', sync.workflowId], env);

    expect(changed.code).toBe(2);
    expect(changed.stderr).toContain(`source file ${file} changed since sync ${sync.workflowId} read it`);

    const clean = await startSync(
      fixture.client,
      {
        account: fixture.setup.accountName,
        source: { kind: 'csv', path: await writeCsv(fixture.setup.directory, `${prefix}-clean.csv`, HEADER, []) },
      },
      { taskQueue: fixture.setup.taskQueue },
    );
    await clean.result();
    // The same checks as the CLI's (a ConfigError is its exit 2), without a process each.
    await expect(rejectingRun(fixture.client, clean.workflowId)).rejects.toThrow(
      new ConfigError(`sync ${clean.workflowId} rejected no row`),
    );
    await expect(rejectingRun(fixture.client, `${prefix}-no-such-sync`)).rejects.toThrow(
      new ConfigError(`no sync or schedule ${prefix}-no-such-sync in this namespace`),
    );

    const paused = await startSync(
      fixture.client,
      { account: fixture.setup.accountName, source: { kind: 'csv', path: file } },
      { taskQueue: fixture.setup.taskQueue },
    );
    await pauseSync(paused);
    const running = await rejectingRun(fixture.client, paused.workflowId).catch((err: unknown) => err);
    await cancelSync(paused);
    expect(running).toEqual(
      new ConfigError(`sync ${paused.workflowId} is still running: its rejects are reported when it finishes`),
    );
  }, 120_000);
});

describe('leadsync rejects of a PostgreSQL sync with a rejects table: rows found again by their key', () => {
  const rejectsTable = `public.${uniqueName('rejects').replace(/[^A-Za-z0-9_]/g, '_')}`;
  const fixture = leadSquaredSyncFixture(ACCOUNT, (setup) =>
    withTestDatabase(setup, { rejects: { table: { connection: TEST_CONNECTION, table: rejectsTable } } }),
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
});
