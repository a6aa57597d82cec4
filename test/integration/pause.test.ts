import { WorkflowClient, type WorkflowHandle } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time.js';
import { describe, expect, it, vi } from 'vitest';
import { pauseSync, resumeSync, startSync, syncProgress } from '../../src/api/syncs.js';
import { governorStateQuery, governorWorkflowId } from '../../src/core/governor/protocol.js';
import { PAUSE_CHECK_MS } from '../../activities/pause-watch.js';
import { FailureType } from '../../src/core/failures.js';
import { eventually } from '../helpers/run-cli.js';
import {
  SMARTLEAD_HEADER,
  smartLeadAccount,
  smartLeadLines,
  type SmartLeadSetup,
} from '../helpers/smartlead-harness.js';
import { cleanupsAfterEach } from '../helpers/cleanups.js';
import { startTestWorker, testClientFixture, writeCsv } from '../helpers/sync-harness.js';
import { uniqueName } from '../helpers/temporal.js';

/**
 * Three calls per 15 s, 10 rows a call, 50 rows: the credential check and the first two uploads go at once, and the
 * next chunks are granted slots 15 s later, where they wait when the sync is paused.
 */
const WINDOW = { limit: 3, seconds: 15 };
const ROWS = 50;

/** PENDING_ACTIVITY_STATE_STARTED (@temporalio/proto, not a dependency of its own). */
const STARTED = 2;

/** The sync's chunks pending: scheduled, or waiting in a worker for their slots (`started`). */
async function chunksWaiting(handle: WorkflowHandle, only?: 'started'): Promise<number> {
  return ((await handle.describe()).raw.pendingActivities ?? []).filter(
    (a) => a.activityType?.name === 'pushChunk' && (only === undefined || a.state === STARTED),
  ).length;
}

/**
 * The chunks of the sync that failed as stopped by its pause, and how long after the pause update completed the first
 * of them did, by the server's clock.
 */
async function stoppedByPause(
  handle: WorkflowHandle,
): Promise<{ chunks: number; afterMs: number; sent: (boolean | undefined)[] }> {
  const events = (await handle.fetchHistory()).events ?? [];
  const paused = events.find((e) => e.workflowExecutionUpdateCompletedEventAttributes);
  const stopped = events.filter(
    (e) => e.activityTaskFailedEventAttributes?.failure?.applicationFailureInfo?.type === FailureType.syncPaused,
  );
  if (!paused || stopped.length === 0) throw new Error(`no pause, or no chunk stopped by it, in ${handle.workflowId}`);
  // What each stopped chunk said of its calls (StoppedChunk): whether any had gone out.
  const sent = stopped.map((e) => {
    const data = e.activityTaskFailedEventAttributes?.failure?.applicationFailureInfo?.details?.payloads?.[0]?.data;
    return data ? (JSON.parse(Buffer.from(data).toString('utf8')) as { sent?: boolean }).sent : undefined;
  });
  return { chunks: stopped.length, afterMs: tsToMs(stopped[0]!.eventTime) - tsToMs(paused.eventTime), sent };
}

describe('pausing a sync', () => {
  const shared = testClientFixture();
  const cleanups = cleanupsAfterEach();

  /** A SmartLead account of WINDOW, 10 rows a call, and a worker of it: both stopped after the test. */
  async function accountWithWorker(): Promise<SmartLeadSetup> {
    const setup = await smartLeadAccount({
      plan: 'standard',
      configuredWindows: [WINDOW],
      simulatorWindows: [WINDOW],
      rowsPerCall: 10,
    });
    cleanups.push(() => setup.simulator.stop());
    const worker = await startTestWorker(setup);
    cleanups.push(() => worker.stop());
    return setup;
  }

  /** Starts a sync of `rows` new leads from a CSV file. */
  async function startLeads(setup: SmartLeadSetup, rows: number) {
    const file = await writeCsv(setup.directory, `${uniqueName('leads')}.csv`, SMARTLEAD_HEADER, smartLeadLines(rows));
    return startSync(
      shared.client,
      { account: setup.accountName, source: { kind: 'csv', path: file }, target: { campaignId: setup.campaignId } },
      { taskQueue: setup.taskQueue },
    );
  }

  it('stops its calls at once: chunks waiting for their slots send nothing and give the slots back', async () => {
    const setup = await accountWithWorker();
    const handle = await startLeads(setup, ROWS);

    // The first window's calls (the credential check and two uploads) reached the vendor, and the next calls hold
    // slots in the next window. By the vendor's count: the first chunk of 15 s is only done in the next window.
    await eventually(
      async () => setup.simulator.report().totals.requests,
      (requests) => requests >= WINDOW.limit,
      { intervalMs: 50 },
    );
    await eventually(
      () => chunksWaiting(handle),
      (n) => n > 0,
    );
    // Paused while the next window's slots lie seconds ahead: a pause is seen within a second (PauseWatches), and a
    // call whose slot came first is sent. A normal sync holds slots a quarter window ahead (3.75 s), asked for as late
    // as takes the window's calls together: two checks' worth ahead is seen for about 1.7 s of each window.
    const governor = shared.client.workflow.getHandle(governorWorkflowId(setup.accountName));
    const ledger = async () => (await governor.query(governorStateQuery)).ledgers.general!.slots;
    await eventually(ledger, (slots) => slots.some((slot) => slot > Date.now() + 2 * PAUSE_CHECK_MS), {
      intervalMs: 50,
    });
    const requestsBefore = setup.simulator.report().totals.requests;
    const paused = await pauseSync(handle);
    const pausedAt = Date.now();
    expect(paused.state).toBe('paused');

    await eventually(
      () => chunksWaiting(handle),
      (n) => n === 0,
    );
    const slotsAhead = await eventually(
      async () => (await ledger()).filter((slot) => slot > pausedAt),
      (slots) => slots.length === 0,
    );

    expect(setup.simulator.report().totals.requests).toBe(requestsBefore);
    expect(slotsAhead).toEqual([]);
    expect((await syncProgress(handle)).counts).toEqual(paused.counts);
    // A chunk stopped while all its calls waited for their slots says it sent nothing: it runs again as it first would.
    expect((await stoppedByPause(handle)).sent).toContain(false);

    await resumeSync(handle);
    const result = await handle.result();

    expect(result.accepted).toBe(ROWS);
    expect(setup.simulator.leads(setup.campaignId)).toHaveLength(ROWS);
    expect(setup.simulator.report().totals.rateLimited).toBe(0);
  });

  it('looks for the pauses of all the syncs whose chunks wait in one read a second, and a paused sync still stops within a second', async () => {
    // The worker runs in this process: its client's reads are counted where the SDK makes them.
    const lists = vi.spyOn(WorkflowClient.prototype, 'list');
    const describes = vi.spyOn(
      WorkflowClient.prototype as unknown as { _describeWorkflowHandler: () => Promise<unknown> },
      '_describeWorkflowHandler',
    );
    cleanups.push(async () => {
      lists.mockRestore();
      describes.mockRestore();
    });
    const setup = await accountWithWorker();
    // Three syncs' credential checks fill the first window: every sync's chunk (two calls) waits 15 s or more.
    const rows = 20;
    const syncs = await Promise.all([startLeads(setup, rows), startLeads(setup, rows), startLeads(setup, rows)]);
    cleanups.push(async () => {
      await Promise.all(syncs.map((handle) => handle.terminate('test over').catch(() => undefined)));
    });
    const [first, second, third] = syncs;
    const governor = shared.client.workflow.getHandle(governorWorkflowId(setup.accountName));
    const nextSlot = async () =>
      Math.min(
        ...(await governor.query(governorStateQuery)).ledgers.general!.slots.filter((slot) => slot > Date.now()),
      );
    // Only a chunk a worker has started is watched; the lane's queue hands out under one a second (its backstop).
    await eventually(
      () => Promise.all(syncs.map((handle) => chunksWaiting(handle, 'started'))),
      (waiting) => waiting.every((n) => n > 0),
    );
    expect(await nextSlot()).toBeGreaterThan(Date.now() + 4 * PAUSE_CHECK_MS);

    const ownDescribes = () => describes.mock.contexts.filter((client) => client !== shared.client.workflow).length;
    const [listsBefore, describesBefore] = [lists.mock.calls.length, ownDescribes()];
    await new Promise((resolve) => setTimeout(resolve, 3 * PAUSE_CHECK_MS));
    const reads = lists.mock.calls.slice(listsBefore).map(([options]) => options?.query ?? '');

    // One read an interval naming the three syncs; one a sync would be nine.
    expect(reads.length).toBeGreaterThanOrEqual(2);
    expect(reads.length).toBeLessThanOrEqual(4);
    for (const query of reads) for (const handle of syncs) expect(query).toContain(`'${handle.workflowId}'`);
    expect(ownDescribes()).toBe(describesBefore);

    await Promise.all([pauseSync(first), pauseSync(second)]);
    await eventually(
      () => Promise.all([first, second].map((handle) => chunksWaiting(handle))),
      (waiting) => waiting.every((n) => n === 0),
    );
    const stopped = await Promise.all([first, second].map(stoppedByPause));

    for (const { afterMs } of stopped) expect(afterMs).toBeLessThan(PAUSE_CHECK_MS + 500);
    // A pause seen costs a describe of the paused sync, in each check that stops chunks of it.
    const described = ownDescribes() - describesBefore;
    expect(described).toBeGreaterThanOrEqual(2);
    expect(described).toBeLessThanOrEqual(stopped.reduce((sum, { chunks }) => sum + chunks, 0));
    expect(await chunksWaiting(third)).toBeGreaterThan(0);

    await Promise.all([resumeSync(first), resumeSync(second)]);
    const results = await Promise.all(syncs.map((handle) => handle.result()));

    expect(results.map((result) => result.accepted)).toEqual([rows, rows, rows]);
    expect(setup.simulator.leads(setup.campaignId)).toHaveLength(3 * rows);
    expect(setup.simulator.report().totals.rateLimited).toBe(0);
  });
});
