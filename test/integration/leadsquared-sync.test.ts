import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { startSync } from '../../src/client/api.js';
import { LEAD_HEADER, csvLines, leadRows, leadSquaredSyncFixture, writeCsv } from '../helpers/sync-harness.js';

describe('a LeadSquared sync at the Enterprise plan', () => {
  const fixture = leadSquaredSyncFixture({ plan: 'enterprise' });

  it('lands 1,000 rows, each once, without a single 429', async () => {
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
    expect(report.totals.rateLimited).toBe(0);
    expect(report.leads.count).toBe(1_000);
    const stored = new Set(fixture.setup.simulator.leads().map((lead) => lead.email));
    expect(rows.every((row) => stored.has(row.EmailAddress.toLowerCase()))).toBe(true);
  }, 240_000);

  it('lands the good rows of a file with bad ones and reports each bad row with its field and reason', async () => {
    const good = leadRows(20);
    const lines = [
      ...csvLines(good.slice(0, 10)),
      'not-an-email,Bad,Email',
      ',No,Email',
      'extra@example.com,Too,Many,Columns',
      `also-not-an-email,${'x'.repeat(201)},Two Problems`,
      ...csvLines(good.slice(10)),
    ];
    const file = await writeCsv(fixture.setup.directory, 'mixed.csv', LEAD_HEADER, lines);

    const handle = await startSync(
      fixture.client,
      { account: fixture.setup.accountName, source: { kind: 'csv', path: file } },
      { taskQueue: fixture.setup.taskQueue },
    );
    const result = await handle.result();

    // Four bad rows; the last has two bad fields: a line each in the report, one rejected row in the counts.
    expect(result).toMatchObject({ totalRows: 24, read: 24, accepted: 20, rejected: 4 });
    const report = (await readFile(result.rejectsFile!, 'utf8')).trim().split('\n');
    expect(report[0]).toBe('row,field,reason');
    expect(report[1]).toMatch(/^11,EmailAddress,.*not a valid email/);
    expect(report[2]).toMatch(/^12,EmailAddress,is required/);
    expect(report[3]).toMatch(/^13,,"unreadable row: expected 3 fields/);
    expect(report.slice(4)).toEqual([
      expect.stringMatching(/^14,EmailAddress,.*not a valid email/),
      expect.stringMatching(/^14,FirstName,"is 201 characters, over the 200 allowed"/),
    ]);
  }, 120_000);
});
