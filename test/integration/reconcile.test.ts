import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { startReconcile } from '../../src/api/reconciles.js';
import { startSync } from '../../src/api/syncs.js';
import { cleanupsAfterEach } from '../helpers/cleanups.js';
import { SMARTLEAD_HEADER, smartLeadAccount, smartLeadLines } from '../helpers/smartlead-harness.js';
import {
  LEAD_HEADER,
  csvLines,
  leadRows,
  leadSquaredSyncFixture,
  startTestWorker,
  testClientFixture,
  writeCsv,
} from '../helpers/sync-harness.js';

describe('reconciling a LeadSquared account with the source it was synced from', () => {
  // Fast enough that 1,000 lookups at a reconciliation's share take seconds: 500 general calls a second.
  const window = { limit: 500, seconds: 1 };
  const fixture = leadSquaredSyncFixture({
    plan: 'custom',
    simulator: { plan: { general: [window], bulk: [{ limit: 50, seconds: 1 }] } },
    account: {
      lanes: {
        general: { windows: [window], rowsPerCall: 1 },
        bulk: { windows: [{ limit: 50, seconds: 1 }], rowsPerCall: 50, alsoSpends: ['general'] },
      },
    },
  });

  /** A change made in the CRM by hand, through the simulator's admin API. */
  async function outOfBand(change: 'edit' | 'delete', body: Record<string, unknown>): Promise<void> {
    const response = await fetch(`${fixture.setup.simulator.adminUrl}/leads/${change}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status, await response.text()).toBe(200);
  }

  async function reconcile(file: string, repair: boolean) {
    const handle = await startReconcile(
      fixture.client,
      { account: fixture.setup.accountName, source: { kind: 'csv', path: file }, repair },
      { taskQueue: fixture.setup.taskQueue },
    );
    return handle.result();
  }

  it('finds exactly the leads changed and deleted at the vendor, repairs them, and then finds none', async () => {
    // Arrange: 1,000 leads synced, then 1% changed and 0.5% deleted in the CRM.
    const rows = leadRows(1_000);
    const file = await writeCsv(fixture.setup.directory, 'leads.csv', LEAD_HEADER, csvLines(rows));
    const sync = await startSync(
      fixture.client,
      { account: fixture.setup.accountName, source: { kind: 'csv', path: file } },
      { taskQueue: fixture.setup.taskQueue },
    );
    expect(await sync.result()).toMatchObject({ accepted: 1_000 });
    const changed = rows.filter((_, i) => i % 100 === 7);
    const deleted = rows.filter((_, i) => i % 200 === 13);
    for (const row of changed) await outOfBand('edit', { email: row.EmailAddress, fields: { FirstName: 'Edited' } });
    for (const row of deleted) await outOfBand('delete', { email: row.EmailAddress });
    expect(fixture.setup.simulator.report({ requests: false }).leads.count).toBe(995);

    // Act: reconcile without repair.
    const handle = await startReconcile(
      fixture.client,
      { account: fixture.setup.accountName, source: { kind: 'csv', path: file } },
      { taskQueue: fixture.setup.taskQueue },
    );
    const found = await handle.result();

    // Assert: those and no others, in the report.
    expect(found).toMatchObject({ checked: 1_000, missing: 5, differing: 10, extra: 0, repaired: 0 });
    const report = (await readFile(found.driftFile, 'utf8')).trim().split('\n');
    expect(report[0]).toBe('row,email,drift,field,source,vendor');
    const rowOf = (email: string) => rows.findIndex((row) => row.EmailAddress === email) + 1;
    expect(report.slice(1).sort()).toEqual(
      [
        ...deleted.map((row) => `${rowOf(row.EmailAddress)},${row.EmailAddress},missing,,,`),
        ...changed.map(
          (row) => `${rowOf(row.EmailAddress)},${row.EmailAddress},differs,FirstName,${row.FirstName},Edited`,
        ),
      ].sort(),
    );

    // The Web UI's current details (what its User Metadata tab queries) say the same.
    const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    expect(metadata.currentDetails).toContain('**reconciliation completed**: 1000 of 1000 source rows checked');
    expect(metadata.currentDetails).toContain('5 missing at the vendor, 10 differing, 0 at the vendor only');
    expect(metadata.currentDetails).toContain(found.driftFile);

    // Act: reconcile with repair, then once more.
    const repaired = await reconcile(file, true);
    const after = await reconcile(file, false);

    // Assert: the vendor holds the source's leads again, and nothing drifts.
    expect(repaired).toMatchObject({ checked: 1_000, missing: 5, differing: 10, repaired: 15 });
    // Only the drifted rows were sent again: the 5 deleted leads made anew, the 10 edited ones updated.
    expect(fixture.setup.simulator.report({ requests: false }).leads).toMatchObject({
      count: 1_000,
      created: 1_005,
      updated: 10,
    });
    const held = new Map(fixture.setup.simulator.leads().map((lead) => [lead.email.toLowerCase(), lead.fields]));
    expect(held.size).toBe(1_000);
    for (const row of [...changed, ...deleted]) {
      expect(held.get(row.EmailAddress.toLowerCase())).toMatchObject({ FirstName: row.FirstName });
    }
    expect(after).toMatchObject({ checked: 1_000, missing: 0, differing: 0, extra: 0, repaired: 0 });
    expect((await readFile(after.driftFile, 'utf8')).trim()).toBe('row,email,drift,field,source,vendor');
  }, 240_000);
});

describe('reconciling a SmartLead campaign, which lists its leads', () => {
  const shared = testClientFixture();
  const cleanups = cleanupsAfterEach();

  it('finds leads missing, differing and at the vendor only; a repair adds the missing ones back', async () => {
    // Arrange: 200 leads synced into the campaign; then one deleted, two edited and one added in SmartLead's app.
    const setup = await smartLeadAccount({ plan: 'standard', timeScale: 10 });
    cleanups.push(() => setup.simulator.stop());
    const worker = await startTestWorker(setup);
    cleanups.push(() => worker.stop());
    const lines = smartLeadLines(200);
    const file = await writeCsv(setup.directory, 'leads.csv', SMARTLEAD_HEADER, lines);
    const input = {
      account: setup.accountName,
      source: { kind: 'csv', path: file },
      target: { campaignId: setup.campaignId },
    } as const;
    const sync = await startSync(shared.client, input, { taskQueue: setup.taskQueue });
    expect(await sync.result()).toMatchObject({ accepted: 200 });
    const emailOf = (line: string) => line.split(',')[0]!;
    const admin = async (change: string, body: unknown) => {
      const response = await fetch(`${setup.simulator.adminUrl}/leads/${change}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(200);
    };
    await admin('delete', { email: emailOf(lines[10]!) });
    await admin('edit', { email: emailOf(lines[20]!), fields: { last_name: 'Edited' } });
    await admin('edit', { email: emailOf(lines[30]!), fields: { 'custom_fields.tier': 'gold', first_name: 'Ed' } });
    const apiKey = Object.values(setup.env)[0]!;
    const added = await fetch(`${setup.simulator.baseUrl}/campaigns/${setup.campaignId}/leads?api_key=${apiKey}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ lead_list: [{ email: 'walk-in@example.com', first_name: 'Walk' }] }),
    });
    expect(added.status).toBe(200);

    // Act
    const reconcile = async (repair: boolean) =>
      (await startReconcile(shared.client, { ...input, repair }, { taskQueue: setup.taskQueue })).result();
    const found = await reconcile(true);
    const after = await reconcile(false);

    // Assert: the edited custom field is not the sync's (no source column maps to it), so it is no drift.
    expect(found).toMatchObject({ checked: 200, missing: 1, differing: 2, extra: 1 });
    const report = (await readFile(found.driftFile, 'utf8')).trim().split('\n').slice(1);
    expect(report).toEqual([
      `11,${emailOf(lines[10]!)},missing,,,`,
      `21,${emailOf(lines[20]!)},differs,last_name,Last21,Edited`,
      `31,${emailOf(lines[30]!)},differs,first_name,First31,Ed`,
      ',walk-in@example.com,extra,,,',
    ]);
    // SmartLead takes a lead already in the campaign without changing it: the missing lead is back, the edits stay.
    expect(setup.simulator.leads(setup.campaignId).map((lead) => lead.email)).toContain(emailOf(lines[10]!));
    expect(after).toMatchObject({ checked: 200, missing: 0, differing: 2, extra: 1 });
  }, 180_000);
});
