import { readFile } from 'node:fs/promises';
import { WorkflowFailedError } from '@temporalio/client';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { startSync, syncProgress } from '../../src/api/syncs.js';
import type { Window } from '../../src/core/plans.js';
import {
  LEAD_HEADER,
  csvLines,
  leadRows,
  leadSquaredSyncFixture,
  writeCsv,
  type LeadSquaredSyncFixture,
} from '../helpers/sync-harness.js';
import { auditWrites, onceEach } from '../helpers/write-counts.js';

/**
 * The cases of issue 11, against a simulator answering as the contract corpus says (src/vendors/leadsquared/corpus):
 * each sync ends on its own, with every row landed once or rejected with the vendor's reason, or Failed saying what
 * to fix. Rates are not the point here: the plans are fast custom ones.
 */

const FAST = { limit: 100, seconds: 1 };
interface LaneWindows {
  general: Window;
  bulk: Window;
}

/** A custom plan: the windows the vendor enforces, and those the account's config names (the same unless given). */
function customAccount(vendor: LaneWindows, configured = vendor, bulkRows = 50) {
  return {
    plan: 'custom',
    simulator: { plan: { general: [vendor.general], bulk: [vendor.bulk] } },
    account: {
      lanes: {
        general: { windows: [configured.general], rowsPerCall: 1 },
        bulk: { windows: [configured.bulk], rowsPerCall: bulkRows, alsoSpends: ['general'] },
      },
    },
  };
}

// Bulk calls also spend from the general lane: a bulk lane as fast as the general one would leave the general lane
// (single upserts, and the reads of a retried activity chunk) next to nothing, as no real plan does.
const fastAccount = () => customAccount({ general: FAST, bulk: { limit: 10, seconds: 1 } });

const ACTIVITY_HEADER = ['EmailAddress', 'ActivityEvent', 'ActivityNote', 'ActivityDateTime', 'mx_Custom_1'];

function start(fixture: LeadSquaredSyncFixture, file: string, records: 'leads' | 'activities' = 'leads') {
  return startSync(
    fixture.client,
    { account: fixture.setup.accountName, source: { kind: 'csv', path: file }, records },
    { taskQueue: fixture.setup.taskQueue },
  );
}

async function rejectLines(file: string | undefined): Promise<string[]> {
  if (!file) return [];
  return (await readFile(file, 'utf8')).trim().split('\n').slice(1);
}

describe('LeadSquared refusals the vendor answers as its pages and independent clients show', () => {
  const fixture = leadSquaredSyncFixture(fastAccount());

  it('rejects the 6 of 600 leads whose phone another lead has, with the vendor message, and lands the other 594', async () => {
    fixture.setup.simulator.reset();
    const rows = leadRows(600);
    const phoneOf = (i: number) => `90000${String(i).padStart(5, '0')}`;
    // Rows 101, 201, ... 600 take the phone of the row 50 before them: Phone is unique by default.
    const clashing = new Set([101, 201, 301, 401, 501, 600]);
    const lines = csvLines(rows).map((line, i) => `${line},${phoneOf(clashing.has(i + 1) ? i + 1 - 50 : i + 1)}`);
    const file = await writeCsv(fixture.setup.directory, 'phones.csv', [...LEAD_HEADER, 'Phone'], lines);

    const result = await (await start(fixture, file)).result();

    expect(result).toMatchObject({ read: 600, accepted: 594, rejected: 6 });
    const rejects = await rejectLines(result.rejectsFile);
    expect(rejects).toHaveLength(6);
    for (const line of rejects) expect(line).toContain('MXDuplicateEntryException: A Lead with same Phone Number');
    expect(fixture.setup.simulator.leads()).toHaveLength(594);
    // Each lead sent once, the six the vendor refused included: a refusal is the row's answer, not a reason to resend.
    expect(auditWrites(fixture.setup.simulator).times).toEqual(onceEach(rows.map((row) => row.EmailAddress)));
  }, 180_000);

  it('rejects a bulk row whose answer it cannot read, with the raw answer, and completes', async () => {
    fixture.setup.simulator.reset();
    const rows = leadRows(150);
    const odd = [rows[79]!, rows[119]!, rows[149]!].map((row) => row.EmailAddress);
    fixture.setup.simulator.setQuirks({ unreadableRows: odd });
    const file = await writeCsv(fixture.setup.directory, 'odd.csv', LEAD_HEADER, csvLines(rows));

    const result = await (await start(fixture, file)).result();

    const bulkRows = fixture.setup.simulator
      .report()
      .requests.filter((r) => r.lane === 'bulk')
      .reduce((sum, r) => sum + r.rows, 0);
    expect(bulkRows).toBeGreaterThan(0);
    expect(result.read).toBe(150);
    expect(result.accepted + result.rejected).toBe(150);
    const rejects = await rejectLines(result.rejectsFile);
    expect(rejects.length).toBe(result.rejected);
    expect(rejects.length).toBeGreaterThan(0);
    for (const line of rejects) expect(line).toMatch(/neither an id nor a reason.*E1042/);
    expect(fixture.setup.simulator.leads()).toHaveLength(result.accepted);
    expect(auditWrites(fixture.setup.simulator).times).toEqual(onceEach(rows.map((row) => row.EmailAddress)));
  }, 180_000);
});

describe('a LeadSquared account whose bulk endpoint takes 25 leads, not the seed’s 50', () => {
  // Two bulk calls a second and few single upserts: most rows go in bulk, at most 7 chunks in flight at once, so the
  // refusals before the maximum is known are few of the bulk lane's chunks.
  const lanes = { general: { limit: 10, seconds: 1 }, bulk: { limit: 2, seconds: 1 } };
  const fixture = leadSquaredSyncFixture({
    ...customAccount(lanes),
    simulator: {
      plan: { general: [lanes.general], bulk: [lanes.bulk] },
      leadsPerBulkCall: 25,
      batchTooLargeStatus: 500,
    },
  });

  it('adopts the maximum the over-size refusal names, and sends 25 a call from then on', async () => {
    const rows = leadRows(1_000);
    const file = await writeCsv(fixture.setup.directory, 'size.csv', LEAD_HEADER, csvLines(rows));

    const result = await (await start(fixture, file)).result();

    expect(result).toMatchObject({ read: 1_000, accepted: 1_000, rejected: 0 });
    // A call refused as too large wrote nothing: its rows, sent again in smaller calls, are each written once.
    expect(auditWrites(fixture.setup.simulator).times).toEqual(onceEach(rows.map((row) => row.EmailAddress)));
    const bulk = fixture.setup.simulator.report().requests.filter((r) => r.lane === 'bulk');
    const refused = bulk.filter((r) => r.outcome === 'invalid');
    const landed = bulk.filter((r) => r.outcome === 'ok');
    expect(refused.length).toBeGreaterThan(0);
    expect(Math.max(...landed.map((r) => r.rows))).toBe(25);
    // Each 50-row chunk would be refused once if the maximum were not kept.
    const bulkChunks = landed.reduce((rows, r) => rows + r.rows, 0) / 50;
    expect(bulkChunks).toBeGreaterThan(15);
    expect(refused.length).toBeLessThan(bulkChunks / 2);
  }, 180_000);
});

describe('LeadSquared 500s in the MX envelope that are faults of the vendor, not refusals', () => {
  const fixture = leadSquaredSyncFixture(fastAccount());

  it('lands every one of 300 leads, none rejected, with a fifth of the calls answered a NullReferenceException 500', async () => {
    fixture.setup.simulator.reset();
    const file = await writeCsv(fixture.setup.directory, 'faults.csv', LEAD_HEADER, csvLines(leadRows(300)));

    fixture.setup.simulator.setFaults({ errorRate: 0.2, seed: 11 });
    const result = await (await start(fixture, file)).result();
    fixture.setup.simulator.setFaults({});

    const faults = fixture.setup.simulator.report().requests.filter((r) => r.outcome === 'fault-500');
    expect(faults.length).toBeGreaterThan(0);
    expect(result).toMatchObject({ read: 300, accepted: 300, rejected: 0 });
    expect(await rejectLines(result.rejectsFile)).toEqual([]);
    expect(fixture.setup.simulator.leads()).toHaveLength(300);
  }, 180_000);
});

describe('LeadSquared leads the vendor keeps failing on', () => {
  const fixture = leadSquaredSyncFixture(fastAccount());

  it('retries a bounded number of times, splits the calls to find the two rows, lands the rest and rejects those two', async () => {
    const rows = leadRows(120);
    const poison = [rows[30]!, rows[99]!].map((row) => row.EmailAddress);
    fixture.setup.simulator.setQuirks({ failingRows: poison });
    const file = await writeCsv(fixture.setup.directory, 'poison.csv', LEAD_HEADER, csvLines(rows));

    const result = await (await start(fixture, file)).result();

    expect(result).toMatchObject({ read: 120, accepted: 118, rejected: 2 });
    expect(result.retried).toBeGreaterThan(0);
    const rejects = await rejectLines(result.rejectsFile);
    expect(rejects.map((line) => Number(line.split(',')[0]))).toEqual([31, 100]);
    // The vendor's own failure, in its envelope: reported with its message once the row's attempts are spent.
    for (const line of rejects) {
      expect(line).toMatch(
        /HTTP 500: NullReferenceException: There was an error processing the request\. \(still failing after 6 attempts\)/,
      );
    }
    expect(fixture.setup.simulator.leads()).toHaveLength(118);
    // The calls the vendor failed wrote nothing, so the retries and splits that found the two wrote each other lead once.
    const landed = rows.filter((row) => !poison.includes(row.EmailAddress));
    expect(auditWrites(fixture.setup.simulator).times).toEqual(onceEach(landed.map((row) => row.EmailAddress)));
  }, 180_000);
});

describe('LeadSquared activities when answers are lost after the write', () => {
  const fixture = leadSquaredSyncFixture(fastAccount());

  it.each([0.05, 0.2])(
    'posts 300 activities over 150 leads exactly once with %s of answers lost, reads included',
    async (lostResponseRate) => {
      fixture.setup.simulator.reset();
      const leads = leadRows(150);
      const leadsFile = await writeCsv(fixture.setup.directory, 'leads.csv', LEAD_HEADER, csvLines(leads));
      await (await start(fixture, leadsFile)).result();
      const lines = leads.flatMap((lead, i) =>
        [1, 2].map((n) => `${lead.EmailAddress},201,visit ${i + 1}.${n},2024-06-0${n} 09:15:00,room ${n}`),
      );
      const file = await writeCsv(fixture.setup.directory, 'activities.csv', ACTIVITY_HEADER, lines);

      // Seed 7's first draw (0.012) strikes at either rate: the first answer is surely lost, then about one in 20 or 5.
      fixture.setup.simulator.setFaults({ lostResponseRate, seed: 7 });
      const result = await (await start(fixture, file, 'activities')).result();
      fixture.setup.simulator.setFaults({});

      const report = fixture.setup.simulator.report({ requests: false });
      expect(report.totals.faults).toBeGreaterThan(0);
      expect(result).toMatchObject({ read: 300, accepted: 300, rejected: 0 });
      const posted = fixture.setup.simulator.activities();
      expect(posted).toHaveLength(300);
      expect(report.duplicates).toBe(0);
      // Activities are not upserts: a lost answer's retry reads what landed first, and posts each activity once.
      const activities = auditWrites(fixture.setup.simulator, 'activity');
      expect(activities.resent).toBe(0);
      expect(activities.times.size).toBe(300);
    },
    240_000,
  );

  it('keeps the endpoint’s 25 activities per bulk call on a custom plan whose bulk lane takes 50 leads', async () => {
    fixture.setup.simulator.reset();
    const leads = leadRows(20);
    await (
      await start(fixture, await writeCsv(fixture.setup.directory, 'l.csv', LEAD_HEADER, csvLines(leads)))
    ).result();
    const lines = leads.flatMap((lead, i) =>
      [1, 2, 3].map((n) => `${lead.EmailAddress},202,note ${i}.${n},2024-07-0${n} 08:00:00,x`),
    );
    const file = await writeCsv(fixture.setup.directory, 'a.csv', ACTIVITY_HEADER, lines);

    const result = await (await start(fixture, file, 'activities')).result();

    expect(result).toMatchObject({ read: 60, accepted: 60, rejected: 0 });
    const bulk = fixture.setup.simulator
      .report()
      .requests.filter((r) => r.path.endsWith('Bulk/CustomActivity/Add/ByLeadField'));
    expect(bulk.length).toBeGreaterThan(0);
    expect(Math.max(...bulk.map((r) => r.rows))).toBeLessThanOrEqual(25);
    expect(bulk.filter((r) => r.status === 400)).toHaveLength(0);
    const activities = auditWrites(fixture.setup.simulator, 'activity');
    expect({ resent: activities.resent, posted: activities.times.size }).toEqual({ resent: 0, posted: 60 });
  }, 180_000);
});

describe('a LeadSquared key revoked mid-sync', () => {
  // Slow enough that the sync is still running when the key goes: 5 single upserts and one bulk call a second.
  const slow = { general: { limit: 5, seconds: 1 }, bulk: { limit: 1, seconds: 1 } };
  const fixture = leadSquaredSyncFixture(customAccount(slow, slow, 10));

  it('fails the sync within a minute, naming the account and what to fix', async () => {
    const file = await writeCsv(fixture.setup.directory, 'revoked.csv', LEAD_HEADER, csvLines(leadRows(2_000)));
    const handle = await start(fixture, file);
    while (((await syncProgress(handle).catch(() => undefined))?.counts.read ?? 0) < 20) await sleep(250);

    fixture.setup.simulator.setKeys({ accessKey: 'revoked', secretKey: 'revoked' });
    const outcome = await Promise.race([
      handle.result().then(
        () => 'completed',
        (err: unknown) => err,
      ),
      sleep(60_000).then(() => 'still running after a minute'),
    ]);

    expect(outcome).toBeInstanceOf(WorkflowFailedError);
    const cause = (outcome as WorkflowFailedError).cause;
    expect(cause?.message).toContain(`LeadSquared account '${fixture.setup.accountName}'`);
    expect(cause?.message).toContain("check the account's credentials");
    expect((await handle.describe()).status.name).toBe('FAILED');
  }, 180_000);
});

describe('a LeadSquared sync cancelled while the vendor refuses every call for rate', () => {
  // The vendor allows one call an hour on each lane (more than the plan says): every chunk waits on a 429's hour.
  const hourly = { limit: 1, seconds: 3_600 };
  const fixture = leadSquaredSyncFixture(
    customAccount({ general: hourly, bulk: hourly }, { general: FAST, bulk: FAST }),
  );

  it('ends as cancelled: chunks waiting on the vendor are cancelled after the grace, not waited for', async () => {
    const file = await writeCsv(fixture.setup.directory, 'hourly.csv', LEAD_HEADER, csvLines(leadRows(200)));
    const handle = await start(fixture, file);
    while (fixture.setup.simulator.report({ requests: false }).totals.rateLimited === 0) await sleep(250);

    await handle.cancel();
    const outcome = await Promise.race([handle.result(), sleep(90_000).then(() => 'still running')]);

    expect(outcome).toMatchObject({ cancelled: true });
    expect((await handle.describe()).status.name).toBe('COMPLETED');
  }, 180_000);
});
