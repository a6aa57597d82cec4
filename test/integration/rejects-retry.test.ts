import { appendFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createSyncSchedule, triggerSyncSchedule } from '../../src/api/schedules.js';
import { cancelSync, pauseSync, startSync } from '../../src/api/syncs.js';
import type { SyncResult } from '../../src/core/contract.js';
import type { Reject } from '../../src/rejects/types.js';
import { rejectingRun } from '../../src/api/rejects.js';
import { ConfigError } from '../../src/core/errors.js';
import { readRejectsReport } from '../../src/rejects/files.js';
import { eventually, leadsync } from '../helpers/run-cli.js';
import { leadSquaredSyncFixture, writeCsv } from '../helpers/sync-harness.js';
import { uniqueName } from '../helpers/temporal.js';

import {
  ACCOUNT,
  HEADER,
  cliJson,
  clearPhones,
  collect,
  seedPhoneHolders,
  writesByLead,
  type Listed,
} from '../helpers/rejects-harness.js';

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

  it("lists the runs of a schedule that rejected rows, each under its sync's id, and shows the latest's rows", async () => {
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

      // `show` takes the schedule's id too: its latest completed run's rejects.
      const shown = await cliJson<Reject>(fixture, ['rejects', 'show', prefix]);

      expect(listed[0]).toEqual([expect.objectContaining({ syncId: `${run}-sync`, rejected: 1 })]);
      expect(shown).toEqual([{ row: 2, field: 'EmailAddress', reason: expect.stringContaining('not a valid email') }]);
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
    // A cancelled sync ends, paused or not: one left running would hold the worker's shutdown.
    expect(await paused.result()).toMatchObject({ cancelled: true });
    expect(running).toEqual(
      new ConfigError(`sync ${paused.workflowId} is still running: its rejects are reported when it finishes`),
    );
  }, 120_000);
});
