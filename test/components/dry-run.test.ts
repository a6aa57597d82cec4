import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type LoadedConfig } from '../../src/config/accounts.js';
import { SyncInputSchema } from '../../src/core/contract.js';
import { dryRun } from '../../src/cli/dry-run.js';
import { LeadsTable, TEST_CONNECTION, TEST_POSTGRES_URL } from '../helpers/postgres-table.js';
import { VENDORS } from '../../src/vendors/registry.js';

describe('a dry run', () => {
  let directory: string;
  let config: LoadedConfig;
  let admin: pg.Client;
  let table: LeadsTable;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'leadsync-dry-run-'));
    config = parseConfig(
      {
        accounts: {
          // Nothing listens here: a dry run that called the vendor would fail.
          acme: {
            vendor: 'leadsquared',
            plan: 'enterprise',
            baseUrl: 'http://127.0.0.1:9/v2/',
            credentials: { accessKeyEnv: 'UNSET_ACCESS_KEY', secretKeyEnv: 'UNSET_SECRET_KEY' },
          },
        },
        sources: { postgres: { [TEST_CONNECTION]: { url: TEST_POSTGRES_URL, tables: ['public.*'] } } },
        rejects: { directory: join(directory, 'rejects') },
      },
      join(directory, 'leadsync.yaml'),
    );
    admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
    table = await LeadsTable.create(admin, 'leadsync_dry_run');
    await table.upsert(1, 2_500, '2024-01-01T00:00:00Z', 'v1');
    await admin.query(`UPDATE ${table.name} SET email = 'not-an-email' WHERE id IN (7, 2001)`);
  });

  afterAll(async () => {
    await table?.drop();
    await admin?.end();
  });

  it('reads, maps and checks every row of a table, reports the rejects, the calls per lane and the time', async () => {
    const request = SyncInputSchema.parse({
      account: 'acme',
      source: { kind: 'postgres', connection: TEST_CONNECTION, table: table.name, key: 'id' },
      mapping: { EmailAddress: 'email', FirstName: 'first_name' },
    });
    const report = await dryRun(config, request, 'dry-run-test', VENDORS);

    expect(report).toMatchObject({ rows: 2_500, valid: 2_498, rejectedRows: 2, checkCalls: 1 });
    expect(report.rejects.map((r) => [r.row, r.field])).toEqual([
      [7, 'EmailAddress'],
      [2001, 'EmailAddress'],
    ]);
    expect(report.rejects[0]!.reason).toMatch(/not a valid email/);
    const file = (await readFile(report.rejectsFile!, 'utf8')).trim().split('\n');
    expect(file).toHaveLength(3);
    expect(file[1]).toMatch(/^7,EmailAddress,/);
    // Enterprise: bulk 0.2 calls/s x 50 rows, general 4.8 calls/s x 1 row: 14.8 rows/s.
    expect(report.rowsPerSecond).toBeCloseTo(14.8);
    expect(report.estimatedSeconds).toBeCloseTo(2_498 / 14.8);
    const bulk = report.lanes.find((l) => l.lane === 'bulk')!;
    const general = report.lanes.find((l) => l.lane === 'general')!;
    expect(bulk.rows + general.rows).toBe(2_498);
    expect(bulk.rows).toBe(Math.round((2_498 * 10) / 14.8));
    expect(bulk.calls).toBe(Math.ceil(bulk.rows / 50));
    expect(general.calls).toBe(general.rows);
  });

  it('fails on a mapping that names a missing column before reading a row', async () => {
    const file = join(directory, 'leads.csv');
    await writeFile(file, 'email,first\na@example.com,A\n');
    const request = SyncInputSchema.parse({
      account: 'acme',
      source: { kind: 'csv', path: file },
      mapping: { EmailAddress: 'email', FirstName: 'first_name' },
    });
    await expect(dryRun(config, request, 'dry-run-mapping', VENDORS)).rejects.toThrow(
      "mapping of FirstName: the source has no column 'first_name'",
    );
  });
});
