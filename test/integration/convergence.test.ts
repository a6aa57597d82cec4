import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowFailedError, type ScheduleHandle } from '@temporalio/client';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rejectingRuns } from '../../src/api/rejects.js';
import { createSyncSchedule, recentRuns } from '../../src/api/schedules.js';
import { resolveCredentials } from '../../src/config/credentials.js';
import type { Mapping } from '../../src/core/mapping.js';
import type { SyncInput, SyncResult } from '../../src/core/contract.js';
import { VENDORS } from '../../src/vendors/registry.js';
import type { leadSync } from '../../workflows/sync.js';
import {
  email,
  LOOKING_BACK_CONNECTION,
  TEST_CONNECTION,
  TEST_POSTGRES_URL,
  withTestDatabase,
} from '../helpers/postgres-table.js';
import { cliJson, type Listed } from '../helpers/rejects-harness.js';
import { eventually, leadsync } from '../helpers/run-cli.js';
import { triggerAndWait } from '../helpers/schedules.js';
import type { ShownReject } from '../../src/rejects/runs-failed.js';
import { leadSquaredSyncFixture, spawnCliWorker, stopChild } from '../helpers/sync-harness.js';
import { auditWrites } from '../helpers/write-counts.js';
import { uniqueName } from '../helpers/temporal.js';

const MAPPING: Mapping = { EmailAddress: 'email', FirstName: 'first_name', Phone: 'phone' };
/** The row store every test's syncs share; each test's table is a scope of its own. */
const STORE = `public.leadsync_rows_${process.pid}_${Date.now()}`;
const CHANGELOG = `public.leadsync_changelog_${process.pid}_${Date.now()}`;
const STUCK_AFTER_RUNS = 2;

/** A line of `leadsync rejects show --json` (with --all, its sync and run). */
type Shown = ShownReject & { syncId?: string; runId?: string };

/**
 * Issue 20: recurring syncs of a table converge over runs. Rows the vendor refused come back in the next run until they
 * land, rows read again (the look-back, a run starting over after a failed one) are not sent again, and what the
 * vendor holds is counted at the simulator, per lead.
 */
describe('recurring PostgreSQL syncs converging over runs', () => {
  // 4 bulk calls of 25 leads a second: 400 rows take about 4 seconds, long enough to fail a run midway.
  const windows = { general: { limit: 100, seconds: 1 }, bulk: { limit: 4, seconds: 1 } };
  const fixture = leadSquaredSyncFixture(
    {
      plan: 'custom',
      simulator: { plan: { general: [windows.general], bulk: [windows.bulk] } },
      account: {
        lanes: {
          general: { windows: [windows.general], rowsPerCall: 1 },
          bulk: { windows: [windows.bulk], rowsPerCall: 25, alsoSpends: ['general'] },
        },
      },
    },
    (setup) =>
      withTestDatabase(setup, {
        convergence: {
          table: { connection: TEST_CONNECTION, table: STORE },
          stuckAfterRuns: STUCK_AFTER_RUNS,
          changelog: { table: CHANGELOG, retentionDays: 7 },
        },
      }),
  );
  let admin: pg.Client;
  const tables: string[] = [];
  const schedules: ScheduleHandle[] = [];

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
    // A changelog as leadsync made it before it kept vendor ids: the first sync's prepare adds the column.
    await admin.query(
      `CREATE TABLE ${CHANGELOG} (scope text NOT NULL, key text NOT NULL, version text, outcome text NOT NULL,
                                  reason text, sync_id text NOT NULL, run_id text NOT NULL,
                                  chunk_first_row bigint NOT NULL, at timestamptz NOT NULL DEFAULT now())`,
    );
  });

  afterEach(async () => {
    await Promise.all(schedules.splice(0).map((s) => s.delete()));
    for (const name of tables.splice(0)) await admin.query(`DROP TABLE IF EXISTS ${name}`);
    fixture.setup.simulator.reset();
  });

  afterAll(async () => {
    await admin?.query(`DROP TABLE IF EXISTS ${STORE}, ${CHANGELOG}`);
    await admin?.end();
  });

  /** A leads table of the test's own: each lead has a phone of its own, which LeadSquared keeps unique. */
  async function table(): Promise<string> {
    const name = `leadsync_converge_${process.pid}_${Date.now()}`;
    await admin.query(
      `CREATE TABLE ${name} (id bigint PRIMARY KEY, email text NOT NULL, first_name text, phone text,
                             updated_at timestamptz NOT NULL)`,
    );
    tables.push(name);
    return name;
  }

  /** Rows `from`..`to` at `at`, their first name saying which version they are. */
  async function upsert(name: string, from: number, to: number, at: string, version: string): Promise<void> {
    await admin.query(
      `INSERT INTO ${name} (id, email, first_name, phone, updated_at)
       SELECT i, 'lead-' || i || '@example.com', $3 || '-' || i, '+1-555-' || lpad(i::text, 4, '0'), $4::timestamptz
       FROM generate_series($1::bigint, $2::bigint) AS i
       ON CONFLICT (id) DO UPDATE SET first_name = excluded.first_name, updated_at = excluded.updated_at`,
      [from, to, version, at],
    );
  }

  function phone(id: number): string {
    return `+1-555-${String(id).padStart(4, '0')}`;
  }

  /** Other leads at the vendor holding the phones of these rows: LeadSquared refuses the rows (a duplicate phone). */
  async function holdPhones(ids: readonly number[]): Promise<string[]> {
    const account = fixture.setup.config.accounts[fixture.setup.accountName]!;
    const client = VENDORS.named('leadsquared').connect(account, resolveCredentials(account), { timeoutMs: 10_000 });
    const holders = ids.map((id, i) => ({
      row: i + 1,
      email: `holder-${id}@example.com`,
      fields: { EmailAddress: `holder-${id}@example.com`, Phone: phone(id) },
    }));
    const { outcomes } = await client.upsertLeads('bulk', holders, {});
    expect(outcomes.every((o) => o.status === 'accepted')).toBe(true);
    return holders.map((h) => h.email);
  }

  function input(name: string, since?: SyncResult['nextSince']): SyncInput {
    return {
      account: fixture.setup.accountName,
      source: {
        kind: 'postgres',
        // Every run reads the 60 seconds of updated_at before its mark again.
        connection: LOOKING_BACK_CONNECTION,
        table: name,
        key: 'id',
        cursorColumn: 'updated_at',
        ...(since ? { since } : {}),
      },
      mapping: MAPPING,
    };
  }

  /** An hourly schedule of the table, paused: the test triggers its runs. Deleted after the test. */
  async function pausedSchedule(prefix: string, name: string): Promise<ScheduleHandle> {
    const schedule = await createSyncSchedule(fixture.client, {
      scheduleId: uniqueName(prefix),
      input: input(name),
      every: '1h',
      taskQueue: fixture.setup.taskQueue,
      paused: true,
    });
    schedules.push(schedule);
    return schedule;
  }

  function start(syncInput: SyncInput) {
    return fixture.client.workflow.start<typeof leadSync>('leadSync', {
      taskQueue: fixture.setup.taskQueue,
      workflowId: uniqueName('converge'),
      args: [syncInput],
    });
  }

  async function sync(syncInput: SyncInput): Promise<SyncResult> {
    return (await start(syncInput)).result();
  }

  /** The vendor's count of writes of each lead it holds, by email. */
  function vendorWrites(): Record<string, number> {
    return Object.fromEntries(fixture.setup.simulator.leads().map((lead) => [lead.email, lead.writes]));
  }

  function each(ids: Iterable<number>, count: number): Record<string, number> {
    return Object.fromEntries([...ids].map((id) => [email(id), count]));
  }

  function ids(from: number, to: number): number[] {
    return Array.from({ length: to - from + 1 }, (_, i) => from + i);
  }

  it('lands in the next scheduled run exactly the rows the vendor refused, once cleared there, and nothing else again', async () => {
    const name = await table();
    await upsert(name, 1, 400, '2024-06-01T00:00:00Z', 'v1');
    const refused = [7, 48, 95, 131, 176, 222, 263, 301, 350, 399];
    const holders = await holdPhones(refused);
    const schedule = await pausedSchedule('converging', name);

    const first = await triggerAndWait(fixture.client, schedule, 1);
    fixture.setup.simulator.deleteLeads(holders);
    const requestsBefore = fixture.setup.simulator.report().requests.length;
    const second = await triggerAndWait(fixture.client, schedule, 2);

    expect(first).toMatchObject({ read: 400, accepted: 390, rejected: 10, retrySet: { size: 10, stuckRows: 0 } });
    expect(first.retrySet?.oldestFailedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    // The look-back reads all 400 rows again: the 390 that landed are unchanged, the 10 come from the retry set.
    expect(second).toMatchObject({ read: 410, accepted: 10, rejected: 0, unchanged: 400, retrySet: { size: 0 } });
    expect(vendorWrites()).toEqual(each(ids(1, 400), 1));
    const runTwoWrites = fixture.setup.simulator
      .report()
      .requests.slice(requestsBefore)
      .reduce((sum, r) => sum + r.rows, 0);
    expect(runTwoWrites).toBe(10);
    // What `schedule describe` shows of each run's retry set.
    const runs = await recentRuns(fixture.client, await schedule.describe());
    expect(runs.map((r) => r.result?.retrySet?.size)).toEqual([10, 0]);
  }, 120_000);

  it('writes each row as often as it changed over three runs with ties on updated_at, looking back each time', async () => {
    const name = await table();
    // Run 1: 20 rows half a minute before 40 that share one updated_at, where the mark stops.
    await upsert(name, 1, 20, '2024-07-01T00:00:00Z', 'v1');
    await upsert(name, 21, 60, '2024-07-01T00:00:30Z', 'v1');
    const first = await sync(input(name));

    // Run 2: 10 new rows at the mark's very updated_at, 10 rows changed 10 seconds later.
    await upsert(name, 61, 70, '2024-07-01T00:00:30Z', 'v1');
    await upsert(name, 5, 14, '2024-07-01T00:00:40Z', 'v2');
    const second = await sync(input(name, first.nextSince));

    // Run 3: 30 rows change at one shared instant, among them rows changed before.
    await upsert(name, 1, 30, '2024-07-01T00:00:50Z', 'v3');
    const third = await sync(input(name, second.nextSince));
    const idle = await sync(input(name, third.nextSince));

    expect(first).toMatchObject({ read: 60, accepted: 60, unchanged: 0 });
    // Each later run reads the minute before its mark again: every row of the table.
    expect(second).toMatchObject({ read: 70, accepted: 20, unchanged: 50 });
    expect(third).toMatchObject({ read: 70, accepted: 30, unchanged: 40 });
    expect(idle).toMatchObject({ read: 70, accepted: 0, unchanged: 70, retrySet: { size: 0, stuckRows: 0 } });
    expect(vendorWrites()).toEqual({ ...each(ids(1, 70), 1), ...each(ids(1, 30), 2), ...each(ids(5, 14), 3) });
    expect(fixture.setup.simulator.leads().find((l) => l.email === email(5))?.fields.FirstName).toBe('v3-5');
  }, 120_000);

  it('sends a row of the retry set at its new version once it changed, drops it once gone, and counts it stuck', async () => {
    const name = await table();
    await upsert(name, 1, 50, '2024-08-01T00:00:00Z', 'v1');
    // Row 3 has an address LeadSquared's own checks refuse: it comes back only once it changes.
    await admin.query(`UPDATE ${name} SET email = 'not-an-email' WHERE id = 3`);
    await holdPhones([10, 20, 30]);
    const first = await sync(input(name));

    // Row 10 gets a phone of its own; row 20 changes but keeps the phone another lead holds; row 30 leaves the table.
    await admin.query(
      `UPDATE ${name} SET phone = '+1-555-9999', first_name = 'v2-10', updated_at = '2024-08-02T00:00:00Z' WHERE id = 10`,
    );
    await upsert(name, 20, 20, '2024-08-02T00:00:00Z', 'v2');
    await admin.query(`DELETE FROM ${name} WHERE id = 30`);
    const second = await sync(input(name, first.nextSince));

    await admin.query(
      `UPDATE ${name} SET email = 'lead-3@example.com', updated_at = '2024-08-03T00:00:00Z' WHERE id = 3`,
    );
    const third = await sync(input(name, second.nextSince));

    expect(first).toMatchObject({ accepted: 46, rejected: 4, retrySet: { size: 4, stuckRows: 0 } });
    // Rows 10 and 20 from the retry set at their new version (20 refused again: its second run), 3 unchanged.
    expect(second).toMatchObject({ accepted: 1, rejected: 1, retrySet: { size: 2, stuckRows: 1 } });
    expect(third).toMatchObject({ accepted: 1, rejected: 1, retrySet: { size: 1, stuckRows: 1 } });
    const landed = vendorWrites();
    expect(landed[email(10)]).toBe(1);
    expect(fixture.setup.simulator.leads().find((l) => l.email === email(10))?.fields.FirstName).toBe('v2-10');
    expect(landed[email(3)]).toBe(1);
    expect(landed[email(20)]).toBeUndefined();
    expect(landed[email(30)]).toBeUndefined();
    // Row 20 was sent in each run (refused each time), row 3 only once it changed.
    const sent = auditWrites(fixture.setup.simulator).times;
    expect([sent.get(email(20)), sent.get(email(3)), sent.get(email(10))]).toEqual([3, 1, 2]);
    // The changelog has each row's outcome per run, with the version and the vendor's reason.
    const log = await admin.query<{ key: string; outcomes: string[]; sync_ids: string }>(
      `SELECT key, array_agg(outcome ORDER BY at, outcome) AS outcomes, count(DISTINCT sync_id)::text AS sync_ids
       FROM ${CHANGELOG} WHERE scope LIKE '%' || $1 || '%' AND key IN ('3', '10', '20', '30') GROUP BY key ORDER BY key`,
      [name],
    );
    expect(log.rows).toEqual([
      { key: '10', outcomes: ['refused', 'landed'], sync_ids: '2' },
      { key: '20', outcomes: ['refused', 'refused', 'refused'], sync_ids: '3' },
      { key: '3', outcomes: ['invalid', 'landed'], sync_ids: '2' },
      { key: '30', outcomes: ['refused', 'gone'], sync_ids: '2' },
    ]);
    const refusal = await admin.query<{ reason: string; version: string }>(
      `SELECT reason, version FROM ${CHANGELOG} WHERE scope LIKE '%' || $1 || '%' AND key = '10' AND outcome = 'refused'`,
      [name],
    );
    expect(refusal.rows).toEqual([
      {
        reason: 'Phone: MXDuplicateEntryException: A Lead with same Phone Number already exists.',
        version: '2024-08-01 00:00:00+00',
      },
    ]);
    // A landed line has the lead's id at the vendor (LeadSquared's ProspectID, as its answer gave it); others none.
    const prospectIds = new Map(fixture.setup.simulator.leads().map((lead) => [lead.email, lead.prospectId]));
    const vendorIds = await admin.query<{ key: string; outcome: string; vendor_id: string | null }>(
      `SELECT key, outcome, vendor_id FROM ${CHANGELOG}
       WHERE scope LIKE '%' || $1 || '%' AND key IN ('1', '3', '10', '20') ORDER BY key, at`,
      [name],
    );
    expect(vendorIds.rows).toEqual([
      { key: '1', outcome: 'landed', vendor_id: prospectIds.get(email(1)) },
      { key: '10', outcome: 'refused', vendor_id: null },
      { key: '10', outcome: 'landed', vendor_id: prospectIds.get(email(10)) },
      ...Array.from({ length: 3 }, () => ({ key: '20', outcome: 'refused', vendor_id: null })),
      { key: '3', outcome: 'invalid', vendor_id: null },
      { key: '3', outcome: 'landed', vendor_id: prospectIds.get(email(3)) },
    ]);
    expect([1, 3, 10].map((id) => prospectIds.get(email(id)))).toEqual(Array(3).fill(expect.any(String)));
    const landedWithoutId = await admin.query<{ lines: string }>(
      `SELECT count(*)::text AS lines FROM ${CHANGELOG}
       WHERE scope LIKE '%' || $1 || '%' AND outcome = 'landed' AND vendor_id IS NULL`,
      [name],
    );
    expect(landedWithoutId.rows).toEqual([{ lines: '0' }]);
  }, 120_000);

  it("shows a schedule's latest rejects with how many runs each row has failed, and with --all every run's", async () => {
    const name = await table();
    await upsert(name, 1, 20, '2024-11-01T00:00:00Z', 'v1');
    await holdPhones([4, 9, 15]);
    const schedule = await pausedSchedule('showing', name);
    const first = await triggerAndWait(fixture.client, schedule, 1);
    // Row 15 leaves the table: the second run drops it from the retry set, and the store no longer counts it.
    await admin.query(`DELETE FROM ${name} WHERE id = 15`);
    const second = await triggerAndWait(fixture.client, schedule, 2);
    const syncs = (await schedule.describe()).info.recentActions.map((a) => `${a.action.workflow.workflowId}-sync`);
    // Visibility learns of a run's end a moment after it.
    await eventually(
      () => rejectingRuns(fixture.client, schedule.scheduleId),
      (runs) => runs.length === 2,
    );
    const env = { ...fixture.setup.env, LEADSYNC_CONFIG: fixture.setup.configPath };

    const latest = await cliJson<Shown>(fixture, ['rejects', 'show', schedule.scheduleId]);
    const all = await cliJson<Shown>(fixture, ['rejects', 'show', schedule.scheduleId, '--all']);
    const text = await leadsync(['rejects', 'show', schedule.scheduleId], env);
    const [listed] = await cliJson<Listed[]>(fixture, ['rejects', 'list', schedule.scheduleId]);
    const listedText = await leadsync(['rejects', 'list', schedule.scheduleId], env);

    expect(first).toMatchObject({ rejected: 3, retrySet: { size: 3 } });
    expect(second).toMatchObject({ rejected: 2, retrySet: { size: 2 } });
    const refused = (id: number, runsFailed?: number) => ({
      row: expect.any(Number),
      key: String(id),
      field: 'Phone',
      reason: expect.stringContaining('same Phone Number'),
      ...(runsFailed === undefined ? {} : { runsFailed }),
    });
    expect(latest).toEqual([refused(4, 2), refused(9, 2)]);
    expect(all).toEqual([
      { syncId: syncs[1], runId: expect.any(String), ...refused(4, 2) },
      { syncId: syncs[1], runId: expect.any(String), ...refused(9, 2) },
      { syncId: syncs[0], runId: expect.any(String), ...refused(4, 2) },
      { syncId: syncs[0], runId: expect.any(String), ...refused(9, 2) },
      // Gone from the table and from the store: no count.
      { syncId: syncs[0], runId: expect.any(String), ...refused(15) },
    ]);
    expect(text.stdout).toContain(`sync ${syncs[1]}, run `);
    expect(text.stdout).toMatch(/^row \d+ Phone \(key 4, failed in 2 runs\): .*same Phone Number/m);
    // Each run's retry set as it left it: three rows after the first run; two once row 15 left the table, both stuck
    // (this schedule's config counts a row stuck after two runs).
    expect(listed).toEqual([
      expect.objectContaining({ syncId: syncs[1], retrySet: expect.objectContaining({ size: 2, stuckRows: 2 }) }),
      expect.objectContaining({ syncId: syncs[0], retrySet: expect.objectContaining({ size: 3, stuckRows: 0 }) }),
    ]);
    expect(listedText.stdout).toMatch(/2 rows, 2 stuck, oldest failed \S+/);
  }, 120_000);

  it('loses nothing of the retry set to a run that fails midway, and the next run sends no landed row again', async () => {
    const name = await table();
    // More rows than the lanes read ahead: chunks not yet started when the run fails.
    await upsert(name, 1, 1200, '2024-09-01T00:00:00Z', 'v1');
    const holders = await holdPhones([2, 3, 4]);
    const handle = await start(input(name));
    while (fixture.setup.simulator.leads().length < 100) await sleep(50);

    // The key column disappears: every chunk not yet read fails for good, and so does the sync.
    await admin.query(`ALTER TABLE ${name} RENAME COLUMN id TO gone_id`);
    const failure = await handle.result().catch((err: unknown) => err);
    const kept = await admin.query<{ key: string }>(
      `SELECT key FROM ${STORE} WHERE state = 'retry' AND scope LIKE '%' || $1 || '%' ORDER BY key`,
      [name],
    );
    await admin.query(`ALTER TABLE ${name} RENAME COLUMN gone_id TO id`);
    fixture.setup.simulator.deleteLeads(holders);
    // A failed run hands no mark on: the next starts where the last good one did, here the table's start.
    const next = await sync(input(name));

    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(kept.rows.map((r) => r.key)).toEqual(['2', '3', '4']);
    expect(next.retrySet).toEqual({ size: 0, stuckRows: 0 });
    expect(vendorWrites()).toEqual(each(ids(1, 1200), 1));
    // The rows that landed in the failed run are read again, and not sent.
    expect(next).toMatchObject({ read: 1203, rejected: 0 });
    expect(next.unchanged).toBeGreaterThanOrEqual(100);
    expect(next.accepted + next.unchanged).toBe(1203);
  }, 120_000);

  it('keeps the retry set exact when chunks run on several workers at once and one is killed mid-chunk', async () => {
    const name = await table();
    await upsert(name, 1, 1200, '2024-10-01T00:00:00Z', 'v1');
    const refused = [5, 150, 290, 444, 580, 713, 850, 999, 1100, 1195];
    const holders = await holdPhones(refused);
    // A `leadsync worker` process beside the test's own: two workers push chunks of the same scope at once.
    const workers = [spawnCliWorker(fixture.setup)];
    try {
      await Promise.all(workers.map(polling));
      const handle = await start(input(name));
      const victim = workers[0]!;
      while (!sentBy(victim.pid!)) await sleep(50);
      const killed = { pid: victim.pid!, at: Date.now() };
      await stopChild(victim, 'SIGKILL');
      const first = await handle.result();
      const kept = await admin.query<{ key: string; runs_failed: number }>(
        `SELECT key, runs_failed FROM ${STORE} WHERE state = 'retry' AND scope LIKE '%' || $1 || '%' ORDER BY key::int`,
        [name],
      );
      fixture.setup.simulator.deleteLeads(holders);
      const requestsBefore = fixture.setup.simulator.report().requests.length;
      const second = await sync(input(name, first.nextSince));

      expect(first).toMatchObject({ accepted: 1190, rejected: 10, retrySet: { size: 10, stuckRows: 0 } });
      // A chunk retried after the kill counts its run once.
      expect(kept.rows).toEqual(refused.map((id) => ({ key: String(id), runs_failed: 1 })));
      expect(second).toMatchObject({ accepted: 10, rejected: 0, retrySet: { size: 0 } });
      const runTwo = fixture.setup.simulator.report().requests.slice(requestsBefore);
      expect(runTwo.reduce((sum, r) => sum + r.rows, 0)).toBe(10);
      // Besides the refused rows sent again in run 2, only the killed worker's chunks were sent twice, by their next try.
      const audit = auditWrites(fixture.setup.simulator, 'lead', { ended: [killed] });
      const again = new Set(refused.map(email));
      expect(audit.duplicates.filter((d) => !again.has(d.key))).toEqual([]);
      expect(audit.duplicates.map((d) => d.key).sort()).toEqual([...again].sort());
      expect(fixture.setup.simulator.leads()).toHaveLength(1200);
    } finally {
      await Promise.all(workers.map((worker) => stopChild(worker)));
    }
  }, 180_000);

  function sentBy(pid: number): boolean {
    return fixture.setup.simulator.report().requests.some((r) => r.sender?.startsWith(`[${pid},`));
  }

  /** Resolves once a `leadsync worker` process polls its lanes. */
  function polling(worker: ChildProcess): Promise<void> {
    return new Promise((resolve, reject) => {
      let seen = '';
      worker.stderr?.on('data', (data: Buffer) => {
        seen += data.toString();
        if (seen.includes('polling lane')) resolve();
      });
      worker.once('exit', (code) => reject(new Error(`the worker exited (${code}) before polling: ${seen}`)));
    });
  }
});
