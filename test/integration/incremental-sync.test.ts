import { WorkflowFailedError, type ScheduleHandle } from '@temporalio/client';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSyncSchedule } from '../../src/api/schedules.js';
import type { Mapping } from '../../src/core/mapping.js';
import type { SyncInput, SyncResult } from '../../src/core/contract.js';
import type { leadSync } from '../../workflows/sync.js';
import {
  email,
  LeadsTable,
  LOOKING_BACK_CONNECTION,
  TEST_CONNECTION,
  TEST_POSTGRES_URL,
  withTestDatabase,
} from '../helpers/postgres-table.js';
import { leadSquaredSyncFixture } from '../helpers/sync-harness.js';
import { triggerAndWait } from '../helpers/schedules.js';
import { uniqueName } from '../helpers/temporal.js';

const MAPPING: Mapping = { EmailAddress: 'email', FirstName: 'first_name' };

describe('incremental and scheduled syncs from a PostgreSQL table', () => {
  const fixture = leadSquaredSyncFixture({ plan: 'enterprise' }, (setup) => withTestDatabase(setup));
  let admin: pg.Client;
  const tables: LeadsTable[] = [];
  const schedules: ScheduleHandle[] = [];

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
  });

  afterEach(async () => {
    await Promise.all(schedules.splice(0).map((s) => s.delete()));
    await Promise.all(tables.splice(0).map((t) => t.drop()));
    fixture.setup.simulator.reset();
  });

  afterAll(async () => {
    await admin?.end();
  });

  async function table(): Promise<LeadsTable> {
    const created = await LeadsTable.create(admin, 'leadsync_incremental');
    tables.push(created);
    return created;
  }

  function input(
    leads: LeadsTable,
    since?: SyncResult['nextSince'],
    mapping = MAPPING,
    connection = TEST_CONNECTION,
  ): SyncInput {
    return {
      account: fixture.setup.accountName,
      source: {
        kind: 'postgres',
        connection,
        table: leads.name,
        key: 'id',
        cursorColumn: 'updated_at',
        ...(since ? { since } : {}),
      },
      mapping,
    };
  }

  function sync(syncInput: SyncInput, chunksPerRun?: number) {
    return fixture.client.workflow.start<typeof leadSync>('leadSync', {
      taskQueue: fixture.setup.taskQueue,
      workflowId: uniqueName('incremental'),
      args: chunksPerRun === undefined ? [syncInput] : [syncInput, undefined, chunksPerRun],
    });
  }

  /** How many upserts reached each lead, by email: the one count that shows a row pushed twice or never. */
  function writes(): Map<string, number> {
    return new Map(fixture.setup.simulator.leads().map((lead) => [lead.email, lead.writes]));
  }

  function expectWrites(expected: Record<number, number>): void {
    const seen = writes();
    expect(Object.fromEntries([...seen].sort())).toEqual(
      Object.fromEntries(
        Object.entries(expected)
          .map(([id, count]) => [email(Number(id)), count] as const)
          .sort(),
      ),
    );
  }

  function range(from: number, to: number, count: number): Record<number, number> {
    return Object.fromEntries(Array.from({ length: to - from + 1 }, (_, i) => [from + i, count]));
  }

  it('pushes only rows changed since the last run, each once, across three runs with ties on updated_at', async () => {
    const leads = await table();
    // Run 1: 60 rows; 40 of them share one updated_at, so chunks and the mark fall inside a tie.
    await leads.upsert(1, 20, '2024-01-01T00:00:00Z', 'v1');
    await leads.upsert(21, 60, '2024-01-01T01:00:00Z', 'v1');
    const first = await (await sync(input(leads))).result();
    expect(first).toMatchObject({ read: 60, accepted: 60, rejected: 0 });
    expect(first.nextSince).toEqual({ value: '2024-01-01 01:00:00+00', key: '60' });
    expectWrites(range(1, 60, 1));

    // Run 2: rows 61-70 arrive with the very updated_at the mark stopped at (a naive `updated_at >` loses them),
    // and rows 5-14 change.
    await leads.upsert(61, 70, '2024-01-01T01:00:00Z', 'v1');
    await leads.upsert(5, 14, '2024-01-02T00:00:00Z', 'v2');
    const second = await (await sync(input(leads, first.nextSince))).result();
    expect(second).toMatchObject({ read: 20, accepted: 20, rejected: 0 });
    expect(second.nextSince).toEqual({ value: '2024-01-02 00:00:00+00', key: '14' });
    expectWrites({ ...range(1, 70, 1), ...range(5, 14, 2) });
    expect(fixture.setup.simulator.leads().find((l) => l.email === email(5))?.fields.FirstName).toBe('v2-5');

    // Run 3: 30 rows change at one shared instant, among them rows changed before; then a run with no change.
    await leads.upsert(1, 30, '2024-01-03T00:00:00Z', 'v3');
    const third = await (await sync(input(leads, second.nextSince))).result();
    expect(third).toMatchObject({ read: 30, accepted: 30 });
    expect(third.nextSince).toEqual({ value: '2024-01-03 00:00:00+00', key: '30' });
    expectWrites({ ...range(1, 70, 1), ...range(1, 30, 2), ...range(5, 14, 3) });

    const idle = await (await sync(input(leads, third.nextSince))).result();
    expect(idle).toMatchObject({ read: 0, nextSince: third.nextSince });
  }, 240_000);

  it('reads a row committed after the last run with a cursor value before its mark, on a connection that looks back', async () => {
    const leads = await table();
    await leads.upsert(1, 10, '2024-05-01T00:00:00Z', 'v1');
    const first = await (await sync(input(leads, undefined, MAPPING, LOOKING_BACK_CONNECTION))).result();
    expect(first).toMatchObject({ read: 10, nextSince: { value: '2024-05-01 00:00:00+00', key: '10' } });

    // A transaction that began 30 seconds before the mark's time commits only now: its row falls before the mark.
    await leads.upsert(11, 11, '2024-04-30T23:59:30Z', 'late');
    const exact = await (await sync(input(leads, first.nextSince))).result();
    const lookingBack = await (await sync(input(leads, first.nextSince, MAPPING, LOOKING_BACK_CONNECTION))).result();

    expect(exact).toMatchObject({ read: 0 });
    // The 60 seconds before the mark are read again: the late row, and the rows of the mark's own time (upserts).
    expect(lookingBack).toMatchObject({ read: 11, accepted: 11, nextSince: first.nextSince });
    expectWrites({ ...range(1, 10, 2), 11: 1 });
  }, 120_000);

  it('crosses continue-as-new on a small chunk budget without losing or repeating a row', async () => {
    const leads = await table();
    // More rows than the lanes keep in flight at once (two chunks of 15 s a lane at Enterprise: 444 rows), so chunks
    // are still pending when the budget is spent.
    await leads.upsert(1, 600, '2024-02-01T00:00:00Z', 'v1');
    const handle = await sync(input(leads), 2);
    const result = await handle.result();

    expect(result).toMatchObject({ totalRows: 600, read: 600, accepted: 600, rejected: 0 });
    expect(result.nextSince).toEqual({ value: '2024-02-01 00:00:00+00', key: '600' });
    expectWrites(range(1, 600, 1));
    const latest = await fixture.client.workflow.getHandle(handle.workflowId).describe();
    expect(latest.runId).not.toBe(handle.firstExecutionRunId);
  }, 240_000);

  it('fails a broken mapping before any vendor call, naming the column', async () => {
    const leads = await table();
    await leads.upsert(1, 5, '2024-03-01T00:00:00Z', 'v1');
    const handle = await sync(input(leads, undefined, { EmailAddress: 'email', FirstName: 'frist_name' }));

    const failure = await handle.result().catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    // The workflow failed because its prepareSync activity did: the reason is the activity's.
    expect(((failure as WorkflowFailedError).cause?.cause as Error | undefined)?.message).toContain(
      "mapping of FirstName: the source has no column 'frist_name'",
    );
    expect(fixture.setup.simulator.report({ requests: false }).totals.requests).toBe(0);
  }, 60_000);

  it('hands the cursor from one scheduled run to the next', async () => {
    const leads = await table();
    await leads.upsert(1, 30, '2024-04-01T00:00:00Z', 'v1');
    const schedule = await createSyncSchedule(fixture.client, {
      scheduleId: uniqueName('schedule'),
      input: input(leads),
      every: '1h',
      taskQueue: fixture.setup.taskQueue,
      // Only the triggers below start runs.
      paused: true,
    });
    schedules.push(schedule);

    const firstRun = await triggerAndWait(fixture.client, schedule, 1);
    expect(firstRun).toMatchObject({ read: 30, nextSince: { value: '2024-04-01 00:00:00+00', key: '30' } });
    expectWrites(range(1, 30, 1));

    await leads.upsert(11, 20, '2024-04-02T00:00:00Z', 'v2');
    const secondRun = await triggerAndWait(fixture.client, schedule, 2);
    expect(secondRun).toMatchObject({ read: 10, nextSince: { value: '2024-04-02 00:00:00+00', key: '20' } });
    expectWrites({ ...range(1, 30, 1), ...range(11, 20, 2) });
  }, 240_000);
});
