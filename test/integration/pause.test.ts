import { describe, expect, it } from 'vitest';
import { pauseSync, resumeSync, startSync, syncProgress } from '../../src/api/syncs.js';
import { governorStateQuery, governorWorkflowId } from '../../src/core/governor/protocol.js';
import { PAUSE_CHECK_MS } from '../../activities/pause-watch.js';
import { eventually } from '../helpers/run-cli.js';
import { SMARTLEAD_HEADER, smartLeadAccount, smartLeadLines } from '../helpers/smartlead-harness.js';
import { cleanupsAfterEach } from '../helpers/cleanups.js';
import { startTestWorker, testClientFixture, writeCsv } from '../helpers/sync-harness.js';
import { uniqueName } from '../helpers/temporal.js';

/**
 * Three calls per 15 s, 10 rows a call, 50 rows: the credential check and the first two uploads go at once, and the
 * next chunks are granted slots 15 s later, where they wait when the sync is paused.
 */
const WINDOW = { limit: 3, seconds: 15 };
const ROWS = 50;

describe('pausing a sync', () => {
  const shared = testClientFixture();
  const cleanups = cleanupsAfterEach();

  it('stops its calls at once: chunks waiting for their slots send nothing and give the slots back', async () => {
    const setup = await smartLeadAccount({
      plan: 'standard',
      configuredWindows: [WINDOW],
      simulatorWindows: [WINDOW],
      rowsPerCall: 10,
    });
    cleanups.push(() => setup.simulator.stop());
    const worker = await startTestWorker(setup);
    cleanups.push(() => worker.stop());
    const lines = smartLeadLines(ROWS);
    const file = await writeCsv(setup.directory, `${uniqueName('leads')}.csv`, SMARTLEAD_HEADER, lines);
    const handle = await startSync(
      shared.client,
      { account: setup.accountName, source: { kind: 'csv', path: file }, target: { campaignId: setup.campaignId } },
      { taskQueue: setup.taskQueue },
    );
    const chunksWaiting = async () =>
      ((await handle.describe()).raw.pendingActivities ?? []).filter((a) => a.activityType?.name === 'pushChunk')
        .length;

    // The first window's uploads landed, and the next chunks hold slots in the next window.
    await eventually(
      () => syncProgress(handle),
      (p) => p.counts.read > 0,
    );
    await eventually(chunksWaiting, (n) => n > 0);
    // Paused while the next window's slots lie seconds ahead: a pause is seen within a second (PauseWatches), and a
    // call whose slot came first is sent.
    const governor = shared.client.workflow.getHandle(governorWorkflowId(setup.accountName));
    const ledger = async () => (await governor.query(governorStateQuery)).ledgers.general!.slots;
    await eventually(ledger, (slots) => slots.some((slot) => slot > Date.now() + 3 * PAUSE_CHECK_MS));
    const requestsBefore = setup.simulator.report().totals.requests;
    const paused = await pauseSync(handle);
    const pausedAt = Date.now();
    expect(paused.state).toBe('paused');

    await eventually(chunksWaiting, (n) => n === 0);
    const slotsAhead = await eventually(
      async () => (await ledger()).filter((slot) => slot > pausedAt),
      (slots) => slots.length === 0,
    );

    expect(setup.simulator.report().totals.requests).toBe(requestsBefore);
    expect(slotsAhead).toEqual([]);
    expect((await syncProgress(handle)).counts).toEqual(paused.counts);

    await resumeSync(handle);
    const result = await handle.result();

    expect(result.accepted).toBe(ROWS);
    expect(setup.simulator.leads(setup.campaignId)).toHaveLength(ROWS);
    expect(setup.simulator.report().totals.rateLimited).toBe(0);
  });
});
