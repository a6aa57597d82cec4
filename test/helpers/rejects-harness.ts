// What the tests of `leadsync rejects` share: an account, phone holders the vendor refuses, the CLI's JSON.
import { expect } from 'vitest';
import { startSync } from '../../src/api/syncs.js';
import type { Reject } from '../../src/rejects/types.js';
import type { RejectsTableReport } from '../../src/core/rejects-ref.js';
import { openTableRejectsSink } from '../../src/rejects/table.js';
import { postgresConnectionResolver } from '../../src/sources/postgres-connection.js';
import { TEST_CONNECTION, TEST_POSTGRES_URL } from './postgres-table.js';
import { leadsync } from './run-cli.js';
import { writeCsv, type LeadSquaredSyncFixture } from './sync-harness.js';
import { uniqueName } from './temporal.js';
import { auditWrites } from './write-counts.js';

// Fifty calls a second, a lead a call: a few dozen rows take a second or two.
const window = { limit: 50, seconds: 1 };
export const ACCOUNT = {
  plan: 'custom',
  simulator: { plan: { general: [window], bulk: [window] } },
  account: { lanes: { general: { windows: [window], rowsPerCall: 1 } } },
};
export const HEADER = ['EmailAddress', 'FirstName', 'Phone'];

export interface Listed {
  syncId: string;
  runId: string;
  rejected: number;
  report: { file: string } | { table: { table: string; runId: string } };
  retrySet?: { size: number; stuckRows: number; oldestFailedAt?: string };
}

/** `leadsync <args> --json` with the account's credentials and config, parsed line by line. */
export async function cliJson<T>(fixture: LeadSquaredSyncFixture, args: string[]): Promise<T[]> {
  const ran = await leadsync([...args, '--json'], { ...fixture.setup.env, LEADSYNC_CONFIG: fixture.setup.configPath });
  expect(ran.code, ran.stderr).toBe(0);
  return ran.stdout
    .trim()
    .split('\n')
    .filter((line) => line)
    .map((line) => JSON.parse(line) as T);
}

/** Leads holding phones the rows under test will want: the vendor refuses a second lead with the same phone. */
export async function seedPhoneHolders(fixture: LeadSquaredSyncFixture, phones: string[]): Promise<string[]> {
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
export async function clearPhones(fixture: LeadSquaredSyncFixture, holders: string[]): Promise<void> {
  for (const email of holders) {
    const answer = await fetch(`${fixture.setup.simulator.adminUrl}/leads/delete`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email }),
    });
    expect(await answer.json()).toEqual({ ok: true });
  }
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/** A run's rows of the rejects table, read back as `rejects show` reads them. */
export async function* tableRejects(report: RejectsTableReport): AsyncGenerator<Reject> {
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
export function writesByLead(fixture: LeadSquaredSyncFixture): Map<string, number> {
  return auditWrites(fixture.setup.simulator).times;
}
