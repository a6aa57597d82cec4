import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { startReconcile } from '../../src/api/reconciles.js';
import { startSync } from '../../src/api/syncs.js';
import { LEAD_HEADER, csvLines, leadRows, leadSquaredSyncFixture, writeCsv } from '../helpers/sync-harness.js';

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
    const found = await reconcile(file, false);

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

    // Act: reconcile with repair, then once more.
    const repaired = await reconcile(file, true);
    const after = await reconcile(file, false);

    // Assert: the vendor holds the source's leads again, and nothing drifts.
    expect(repaired).toMatchObject({ checked: 1_000, missing: 5, differing: 10, repaired: 15 });
    const held = new Map(fixture.setup.simulator.leads().map((lead) => [lead.email.toLowerCase(), lead.fields]));
    expect(held.size).toBe(1_000);
    for (const row of [...changed, ...deleted]) {
      expect(held.get(row.EmailAddress.toLowerCase())).toMatchObject({ FirstName: row.FirstName });
    }
    expect(after).toMatchObject({ checked: 1_000, missing: 0, differing: 0, extra: 0, repaired: 0 });
    expect((await readFile(after.driftFile, 'utf8')).trim()).toBe('row,email,drift,field,source,vendor');
  }, 240_000);
});
