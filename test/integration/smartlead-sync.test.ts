import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { startSync } from '../../src/api/syncs.js';
import type { SyncInput } from '../../src/core/contract.js';
import { cleanupsAfterEach } from '../helpers/cleanups.js';
import { startTestWorker, testClientFixture, writeCsv } from '../helpers/sync-harness.js';
import {
  SMARTLEAD_HEADER,
  smartLeadAccount,
  smartLeadLines,
  type SmartLeadAccountSetup,
  type SmartLeadSetup,
} from '../helpers/smartlead-harness.js';
import { testTemporal, uniqueName } from '../helpers/temporal.js';
import { LOADED_MACHINE_TOLERANCE, vendorWindows } from '../helpers/vendor-windows.js';
import { auditWrites, onceEach } from '../helpers/write-counts.js';
import { campaignLeadKey } from '../../src/vendors/smartlead/simulator/store.js';

/** The issue-11 case ran 48,000 rows; on a 10-call-a-second plan that many take about 12 s of calls. */
const LARGE_SYNC_ROWS = 48_000;

/** What the worker's vendor client was answered, as it saw it: the simulator's log has no headers. */
interface Answered {
  at: number;
  status: number;
  retryAfter: string | null;
}

describe('a SmartLead sync', () => {
  const shared = testClientFixture();
  const cleanups = cleanupsAfterEach();

  /** An account on its own simulator with a worker in this process; `answers` collects what the vendor said. */
  async function account(options: SmartLeadAccountSetup) {
    const setup = await smartLeadAccount(options);
    cleanups.push(() => setup.simulator.stop());
    const answers: Answered[] = [];
    const recording: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      answers.push({ at: Date.now(), status: response.status, retryAfter: response.headers.get('retry-after') });
      return response;
    };
    const worker = await startTestWorker(setup, undefined, { fetch: recording });
    cleanups.push(() => worker.stop());
    return { setup, answers };
  }

  async function sync(setup: SmartLeadSetup, lines: string[], input: Partial<SyncInput> = {}) {
    const file = await writeCsv(setup.directory, `${uniqueName('leads')}.csv`, SMARTLEAD_HEADER, lines);
    const handle = await startSync(
      shared.client,
      {
        account: setup.accountName,
        source: { kind: 'csv', path: file },
        target: { campaignId: setup.campaignId },
        ...input,
      },
      { taskQueue: setup.taskQueue },
    );
    return { handle, result: await handle.result() };
  }

  function storedEmails(setup: SmartLeadSetup): string[] {
    return setup.simulator.leads(setup.campaignId).map((lead) => lead.email.toLowerCase());
  }

  /**
   * Every request SmartLead received, refused ones included, in each of the key's windows (per second, minute, hour):
   * at most a loaded machine's tolerance over the limit, and at most `rateLimited` 429s.
   */
  function expectWithinWindows(
    setup: SmartLeadSetup,
    what: string,
    rateLimited: number = LOADED_MACHINE_TOLERANCE.rateLimited,
  ): void {
    const windows = vendorWindows(setup.simulator.report().requests, { general: { windows: setup.windows } });
    console.info(`${what}: ${windows.summary}`);
    expect(windows.over, windows.summary).toBeLessThanOrEqual(LOADED_MACHINE_TOLERANCE.overLimit);
    expect(windows.rateLimited, windows.summary).toBeLessThanOrEqual(rateLimited);
  }

  /** Each of the lines' leads sent once to the setup's campaign: the writes when nothing needed sending again. */
  function onceEachLine(setup: SmartLeadSetup, lines: readonly string[]): Map<string, number> {
    return onceEach(lines.map((line) => campaignLeadKey(setup.campaignId, line.split(',')[0]!)));
  }

  it('uploads 5,000 rows to a campaign on the Standard plan in calls of 400, each row stored once', async () => {
    const { setup } = await account({ plan: 'standard' });
    const lines = smartLeadLines(5_000);

    const { result } = await sync(setup, lines);

    expect(result).toMatchObject({ totalRows: 5_000, read: 5_000, accepted: 5_000, rejected: 0 });
    const report = setup.simulator.report();
    const uploads = report.requests.filter((r) => r.method === 'POST' && r.outcome === 'ok');
    expect(uploads.every((r) => r.rows <= 400)).toBe(true);
    const stored = storedEmails(setup);
    expect(stored).toHaveLength(5_000);
    expect(new Set(stored)).toEqual(new Set(lines.map((line) => line.split(',')[0]!.toLowerCase())));
    // SmartLead would dedupe a lead sent twice: only the writes it received show that none was.
    expect(auditWrites(setup.simulator).times).toEqual(onceEachLine(setup, lines));
    expectWithinWindows(setup, 'Standard, 5,000 rows');
  }, 120_000);

  it('makes every resend visible when answers are lost after the write: each lead stored once, resends counted', async () => {
    const { setup } = await account({
      plan: 'standard',
      rowsPerCall: 100,
      simulator: { faults: { lostResponseRate: 0.3, seed: 11 } },
    });
    const lines = smartLeadLines(1_000);

    const { result } = await sync(setup, lines);

    expect(result).toMatchObject({ read: 1_000, accepted: 1_000, rejected: 0 });
    expect(storedEmails(setup)).toHaveLength(1_000);
    const lost = setup.simulator.report().requests.filter((r) => r.outcome === 'fault-lost-response');
    // A lost answer's leads were stored, then sent again by the retried call: SmartLead deduped them, the log did not.
    // Each resend follows a lost answer of the same lead, one resend per lost answer.
    const writes = auditWrites(setup.simulator);
    expect(lost.length).toBeGreaterThan(0);
    expect(writes.duplicates).toEqual([]);
    expect(writes.resent).toBe(writes.unanswered);
    expect([...writes.times.keys()].sort()).toEqual([...onceEachLine(setup, lines).keys()].sort());
    expect(result.retried).toBeGreaterThanOrEqual(1);
  }, 150_000);

  it('completes a large sync whose answers count unsubscribed leads without naming them, every row accounted for', async () => {
    // The case that stalled: an add-leads answer with unsubscribed_leads as a number. On a fast custom plan, so the
    // size is the point and not the plan's minute window.
    const prefix = uniqueName('unsub');
    const lines = smartLeadLines(LARGE_SYNC_ROWS, prefix);
    const unsubscribed = lines.filter((_, i) => i % 97 === 0).map((line) => line.split(',')[0]!);
    const { setup } = await account({
      plan: 'standard',
      configuredWindows: [{ limit: 10, seconds: 1 }],
      simulatorWindows: [{ limit: 10, seconds: 1 }],
      simulator: { addLeadsAnswer: 'classic-counts', unsubscribedEmails: unsubscribed },
    });

    const { result } = await sync(setup, lines);

    expect(result).toMatchObject({ totalRows: LARGE_SYNC_ROWS, read: LARGE_SYNC_ROWS, rejected: 0 });
    // SmartLead counts the unsubscribed leads without naming them: counted apart, never among the accepted.
    expect(result.unattributed).toBe(unsubscribed.length);
    expect(result.accepted + result.rejected + result.unattributed).toBe(LARGE_SYNC_ROWS);
    const stored = new Set(storedEmails(setup));
    expect(result.accepted).toBe(stored.size);
    expect(stored.size).toBe(LARGE_SYNC_ROWS - unsubscribed.length);
    expect(unsubscribed.some((email) => stored.has(email.toLowerCase()))).toBe(false);
    // The report has a line per chunk and reason with no row, and their counts add up to the unsubscribed leads.
    const report = (await readFile(result.rejectsFile!, 'utf8')).trim().split('\n').slice(1);
    const counts = report.map((line) =>
      /^,,"?(\d+) rows? refused by the vendor, not named: .*unsubscribed/i.exec(line),
    );
    expect(counts.every((match) => match !== null)).toBe(true);
    expect(counts.reduce((sum, match) => sum + Number(match![1]), 0)).toBe(unsubscribed.length);
    expect(auditWrites(setup.simulator).times).toEqual(onceEachLine(setup, lines));
    expect(setup.simulator.report().totals.rowsRejected).toBeGreaterThanOrEqual(unsubscribed.length);
    expectWithinWindows(setup, '10 calls a second, 48,000 rows');
  }, 300_000);

  it('splits a batch SmartLead refuses for lead validation: the others land, the refused lead is rejected', async () => {
    const prefix = uniqueName('valid');
    const lines = smartLeadLines(40, prefix);
    const refused = `${prefix}-23@example.com`;
    const { setup } = await account({ plan: 'standard', simulator: { invalidLeadEmails: [refused] } });

    const { result } = await sync(setup, lines);

    expect(result).toMatchObject({ read: 40, accepted: 39, rejected: 1 });
    const report = (await readFile(result.rejectsFile!, 'utf8')).trim().split('\n');
    expect(report.slice(1)).toEqual([expect.stringMatching(/^23,,.*lead validation failed/)]);
    expect(storedEmails(setup)).toHaveLength(39);
    expect(storedEmails(setup)).not.toContain(refused);
    // The refused batches wrote nothing: their parts, sent again, wrote each other lead once.
    const written = lines.filter((line) => !line.startsWith(`${refused},`));
    expect(auditWrites(setup.simulator).times).toEqual(onceEachLine(setup, written));
  }, 120_000);

  it('rejects invalid and unsubscribed leads with their reason, and takes leads already in the campaign', async () => {
    const prefix = uniqueName('mixed');
    const { setup } = await account({
      plan: 'standard',
      simulator: { unsubscribedEmails: [`${prefix}-3@example.com`] },
    });
    const good = smartLeadLines(4, prefix);
    await sync(setup, good.slice(0, 2));

    const { result } = await sync(setup, [...good, 'not-an-email,Bad,Email']);

    expect(result).toMatchObject({ read: 5, accepted: 3, rejected: 2 });
    const report = (await readFile(result.rejectsFile!, 'utf8')).trim().split('\n');
    expect(report.slice(1).sort()).toEqual([
      expect.stringMatching(/^3,,unsubscribed/),
      expect.stringMatching(/^5,email,.*not a valid email/),
    ]);
    expect(storedEmails(setup)).toHaveLength(3);
  }, 120_000);

  it('fails at once, before any upload, when the campaign does not exist', async () => {
    const { setup } = await account({ plan: 'standard' });

    const failed = sync(setup, smartLeadLines(10), { target: { campaignId: 999_999 } });

    const failure = await failed.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(causes(failure).join('\n')).toMatch(/no campaign 999999/);
    expect(setup.simulator.report().requests.filter((r) => r.method === 'POST')).toHaveLength(0);
  }, 60_000);

  it("fails with SmartLead's message when every upload is answered success:false", async () => {
    // Most likely the campaign's or the account's state: no retry or split can fix it, so the sync says what to check.
    const { setup } = await account({ plan: 'standard' });
    setup.simulator.failUploads(1_000, 'Lead import is paused');

    const failure = await sync(setup, smartLeadLines(10, uniqueName('paused'))).then(
      () => undefined,
      (err: unknown) => err,
    );

    const message = causes(failure).join('\n');
    expect(message).toMatch(/Lead import is paused/);
    expect(message).toMatch(/check the campaign/);
    // One upload, not retried or split: the sync ended on SmartLead's first answer.
    const uploads = setup.simulator.report().requests.filter((r) => r.method === 'POST' && r.path.endsWith('/leads'));
    expect(uploads).toHaveLength(1);
  }, 120_000);

  it('shares a key with another integration spending 30% of it: every row lands once', async () => {
    // Ten times real speed: the minute window (6 s here) is the one a burst of uploads fills.
    const { setup } = await account({
      plan: 'standard',
      timeScale: 10,
      rowsPerCall: 25,
      simulator: { sharedShare: 0.3 },
    });
    const lines = smartLeadLines(5_000);

    const { result } = await sync(setup, lines);

    expect(result).toMatchObject({ read: 5_000, accepted: 5_000, rejected: 0 });
    expect(storedEmails(setup)).toHaveLength(5_000);
    expect(auditWrites(setup.simulator).times).toEqual(onceEachLine(setup, lines));
    // The other integration's calls are not in the log: our own stay within the windows. The pacer learns of the
    // other's share from the quota headers, and from a 429 where its calls land beside ours: 1 429 idle, 3 to 8 with
    // two busy loops beside the test (the simulated integration then spends in bursts, its timer late). A pacer that
    // does not wait for its slots drew 878.
    expectWithinWindows(setup, 'shared key', 12);
  }, 120_000);

  it('holds every window with two worker processes on the same account', async () => {
    const { setup } = await account({ plan: 'standard', timeScale: 10, rowsPerCall: 25 });
    const other = await startWorkerProcess(setup);
    cleanups.push(() => other.stop());
    const lines = smartLeadLines(5_000);

    const { handle, result } = await sync(setup, lines);

    expect(result).toMatchObject({ read: 5_000, accepted: 5_000 });
    expect(storedEmails(setup)).toHaveLength(5_000);
    expect(auditWrites(setup.simulator).times).toEqual(onceEachLine(setup, lines));
    expectWithinWindows(setup, 'two worker processes');
    const history = await handle.fetchHistory();
    const chunkWorkers = new Set(
      (history.events ?? [])
        .map((event) => event.activityTaskStartedEventAttributes?.identity)
        .filter((identity): identity is string => !!identity),
    );
    expect(chunkWorkers.size).toBeGreaterThanOrEqual(2);
  }, 150_000);

  it('waits the Retry-After the vendor states, 30 s, before the next call', async () => {
    // The account believes in 10 calls a second; the vendor allows 2 in 30 s and says so with a 429.
    const { setup, answers } = await account({
      plan: 'standard',
      configuredWindows: [{ limit: 10, seconds: 1 }],
      simulatorWindows: [{ limit: 2, seconds: 30 }],
      rowsPerCall: 10,
    });

    const lines = smartLeadLines(20);
    const { result } = await sync(setup, lines);

    expect(result).toMatchObject({ read: 20, accepted: 20 });
    expect(result.retried).toBeGreaterThanOrEqual(1);
    expect(auditWrites(setup.simulator).times).toEqual(onceEachLine(setup, lines));
    const refusal = answers.find((a) => a.status === 429)!;
    expect(refusal.retryAfter).toBe('30');
    const requests = setup.simulator.report().requests;
    const next = requests.find((r) => r.at > refusal.at);
    expect(next).toBeDefined();
    expect(next!.at).toBeGreaterThanOrEqual(refusal.at + 30_000);
  }, 120_000);
});

/** The messages of an error and of every cause under it. */
function causes(err: unknown): string[] {
  const messages: string[] = [];
  for (let at = err; at instanceof Error; at = at.cause) messages.push(at.message);
  return messages;
}

/** `leadsync worker` in a child process, on the same config, account and task queues as the test's own worker. */
async function startWorkerProcess(setup: SmartLeadSetup): Promise<{ stop(): Promise<void> }> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'worker', '--config', setup.configPath, '--task-queue', setup.taskQueue],
    {
      env: {
        ...process.env,
        ...setup.env,
        TEMPORAL_ADDRESS: testTemporal().address,
        TEMPORAL_NAMESPACE: testTemporal().namespace,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output: string[] = [];
  const ready = new Promise<void>((resolve, reject) => {
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        output.push(line);
        if (line.includes('polling lane')) resolve();
      });
    }
    child.once('exit', (code) => reject(new Error(`worker process exited (${code}):\n${output.join('\n')}`)));
  });
  await ready;
  return {
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
