import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { startSync } from '../../src/api/syncs.js';
import { LEAD_HEADER, csvLines, leadRows, leadSquaredSyncFixture, writeCsv } from '../helpers/sync-harness.js';
import { auditWrites, onceEach } from '../helpers/write-counts.js';

describe('a LeadSquared sync of a file with bad rows, at the Enterprise plan', () => {
  const fixture = leadSquaredSyncFixture({ plan: 'enterprise' });

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
    expect(report[0]).toBe('row,field,reason,source_key');
    expect(report[1]).toMatch(/^11,EmailAddress,.*not a valid email/);
    expect(report[2]).toMatch(/^12,EmailAddress,is required/);
    expect(report[3]).toMatch(/^13,,"unreadable row: expected 3 fields/);
    expect(report.slice(4)).toEqual([
      expect.stringMatching(/^14,EmailAddress,.*not a valid email/),
      expect.stringMatching(/^14,FirstName,"is 201 characters, over the 200 allowed"/),
    ]);
  }, 120_000);
});

describe('a LeadSquared sync on a custom plan fast enough that a chunk carries several calls', () => {
  // 100 bulk calls a second: ten calls (500 rows) to a chunk.
  const window = { limit: 100, seconds: 1 };
  const fixture = leadSquaredSyncFixture({
    plan: 'custom',
    simulator: { plan: { general: [window], bulk: [window] } },
    account: {
      lanes: {
        general: { windows: [window], rowsPerCall: 1 },
        bulk: { windows: [window], rowsPerCall: 50, alsoSpends: ['general'] },
      },
    },
  });

  it('sends each chunk as calls of at most 50 rows and lands every good row once', async () => {
    const good = leadRows(3_000);
    const lines = [...csvLines(good.slice(0, 1_234)), 'not-an-email,Bad,Email', ...csvLines(good.slice(1_234))];
    const file = await writeCsv(fixture.setup.directory, 'fast.csv', LEAD_HEADER, lines);

    const handle = await startSync(
      fixture.client,
      { account: fixture.setup.accountName, source: { kind: 'csv', path: file } },
      { taskQueue: fixture.setup.taskQueue },
    );
    const result = await handle.result();

    expect(result).toMatchObject({ totalRows: 3_001, read: 3_001, accepted: 3_000, rejected: 1 });
    expect(auditWrites(fixture.setup.simulator).times).toEqual(onceEach(good.map((row) => row.EmailAddress)));
    const report = fixture.setup.simulator.report();
    expect(report.leads).toMatchObject({ count: 3_000, updated: 0 });
    const bulk = report.requests.filter((request) => request.lane === 'bulk');
    expect(Math.max(...bulk.map((request) => request.rows))).toBe(50);
    expect(bulk.reduce((rows, request) => rows + request.rows, 0)).toBe(3_000);
    // Every call but the credential check is a chunk's, and each is counted.
    expect(result.calls).toBe(report.totals.requests - 1);
    expect((await readFile(result.rejectsFile!, 'utf8')).split('\n')[1]).toMatch(/^1235,EmailAddress,/);
  }, 120_000);
});
