import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import {
  onceEachLine,
  smartLeadLines,
  smartLeadSyncFixture,
  storedEmails,
  type SmartLeadSetup,
} from '../helpers/smartlead-harness.js';
import { testTemporal, uniqueName } from '../helpers/temporal.js';
import { LOADED_MACHINE_TOLERANCE, vendorWindows } from '../helpers/vendor-windows.js';
import { auditWrites } from '../helpers/write-counts.js';

/** The issue-11 case ran 48,000 rows; on a 10-call-a-second plan that many take about 12 s of calls. */
const LARGE_SYNC_ROWS = 48_000;

// The SmartLead syncs whose every request is counted in each of the key's windows; the others are in
// smartlead-vendor-answers.test.ts and smartlead-retry-after.test.ts.
describe('a SmartLead sync', () => {
  const { account, sync, cleanups } = smartLeadSyncFixture();

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
});

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
