import { describe, expect, it } from 'vitest';
import { LEADSQUARED_PLANS } from '../../src/vendors/leadsquared/plans.js';
import { LOADED_MACHINE_TOLERANCE, vendorWindows } from '../helpers/vendor-windows.js';
import { startSync } from '../../src/api/syncs.js';
import { LEAD_HEADER, csvLines, leadRows, leadSquaredSyncFixture, writeCsv } from '../helpers/sync-harness.js';
import { auditWrites, onceEach } from '../helpers/write-counts.js';

// Counted in every 5 s window; what a sync does with bad rows, and with calls of 50 rows, is in
// leadsquared-rows.test.ts.
describe('a LeadSquared sync at the Enterprise plan', () => {
  const fixture = leadSquaredSyncFixture({ plan: 'enterprise' });

  it('lands 1,000 rows on the Enterprise plan, each written once, over connections kept across windows', async () => {
    const rows = leadRows(1_000);
    const file = await writeCsv(fixture.setup.directory, 'leads.csv', LEAD_HEADER, csvLines(rows));

    const handle = await startSync(
      fixture.client,
      { account: fixture.setup.accountName, source: { kind: 'csv', path: file } },
      { taskQueue: fixture.setup.taskQueue },
    );
    const result = await handle.result();

    expect(result).toMatchObject({ totalRows: 1_000, read: 1_000, accepted: 1_000, rejected: 0 });
    const report = fixture.setup.simulator.report({ requests: false });
    expect(report.leads.count).toBe(1_000);
    const stored = new Set(fixture.setup.simulator.leads().map((lead) => lead.email));
    expect(rows.every((row) => stored.has(row.EmailAddress.toLowerCase()))).toBe(true);
    // Nothing failed, so nothing was sent twice: a call refused for rate wrote nothing and is the only one sent again.
    expect(auditWrites(fixture.setup.simulator).times).toEqual(onceEach(rows.map((row) => row.EmailAddress)));
    // The vendor's side of the ceiling: every request it received in each 5 s window, refused ones included.
    const windows = vendorWindows(fixture.setup.simulator.report().requests, LEADSQUARED_PLANS.enterprise!.lanes);
    console.info(`Enterprise, 1,000 rows: ${windows.summary}`);
    expect(windows.over, windows.summary).toBeLessThanOrEqual(LOADED_MACHINE_TOLERANCE.overLimit);
    expect(windows.rateLimited, windows.summary).toBeLessThanOrEqual(LOADED_MACHINE_TOLERANCE.rateLimited);
    // A lane's calls go out together once a window, 5 s apart, and the simulator, like a vendor, does not announce how
    // long it keeps a connection: a client that lets go of idle connections after 4 s (fetch) opens new ones every
    // window, one per call. Kept across windows, the connections are no more than the calls in flight at once, at most
    // a window's worth: 25 on Enterprise, whose bulk calls count in the general window too.
    const { connections, totals } = fixture.setup.simulator.report({ requests: false });
    console.info(`Enterprise, 1,000 rows: ${totals.requests} calls on ${connections} connections`);
    expect(connections).toBeLessThanOrEqual(LEADSQUARED_PLANS.enterprise!.lanes.general!.windows[0]!.limit);
  }, 240_000);
});
