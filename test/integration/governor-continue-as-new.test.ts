import { describe, expect, it } from 'vitest';
import { startSync } from '../../src/api/syncs.js';
import { GOVERNOR_WORKFLOW_TYPE, governorWorkflowId, releaseSignal } from '../../src/core/governor/protocol.js';
import { LEAD_HEADER, csvLines, leadRows, leadSquaredSyncFixture, writeCsv } from '../helpers/sync-harness.js';

/**
 * A governor continues as new long before its history grows large (2,000 events as workers start it; here 30, so a
 * test sees several):
 * what it carries over (the ledgers, the grants of calls in flight) must keep every window, or the first calls of
 * the next run would be granted into windows the vendor still counts full.
 */
describe('an account governor continuing as new under a running sync', () => {
  const fixture = leadSquaredSyncFixture({ plan: 'enterprise' });

  it('keeps pacing across its runs: every row lands once, with no 429', async () => {
    const governor = await fixture.client.workflow.start(GOVERNOR_WORKFLOW_TYPE, {
      taskQueue: fixture.setup.taskQueue,
      workflowId: governorWorkflowId(fixture.setup.accountName),
      args: [{ account: fixture.setup.accountName, eventsPerRun: 30 }],
    });
    const file = await writeCsv(fixture.setup.directory, 'leads.csv', LEAD_HEADER, csvLines(leadRows(400)));

    const handle = await startSync(
      fixture.client,
      { account: fixture.setup.accountName, source: { kind: 'csv', path: file } },
      { taskQueue: fixture.setup.taskQueue },
    );
    const result = await handle.result();

    expect(result).toMatchObject({ read: 400, accepted: 400, rejected: 0 });
    const latest = await fixture.client.workflow.getHandle(governor.workflowId).describe();
    expect(latest.runId).not.toBe(governor.firstExecutionRunId);
    const stored = fixture.setup.simulator.leads();
    expect(stored).toHaveLength(400);
    expect(stored.filter((lead) => lead.writes !== 1)).toEqual([]);
    expect(fixture.setup.simulator.report({ requests: false }).totals.rateLimited).toBe(0);
    await fixture.client.workflow.getHandle(governor.workflowId).terminate('test done');
  }, 240_000);

  it('continues as new by 2,000 events when a worker started it, so a worker can replay it within a task timeout', async () => {
    const file = await writeCsv(fixture.setup.directory, 'few.csv', LEAD_HEADER, csvLines(leadRows(5, 'few')));
    const sync = await startSync(
      fixture.client,
      { account: fixture.setup.accountName, source: { kind: 'csv', path: file } },
      { taskQueue: fixture.setup.taskQueue },
    );
    await sync.result();
    // The sync's worker started the account's governor, which stays for its next syncs.
    const handle = fixture.client.workflow.getHandle(governorWorkflowId(fixture.setup.accountName));
    const firstRunId = (await handle.describe()).runId;

    // Releases of a grant it never made: each is dropped, but each is an event of its history. Sent until a new run
    // starts, up to 10,000: the server adds them to the history whether or not the workflow has caught up.
    const describeLatest = () => handle.describe();
    let latest = await describeLatest();
    for (let sent = 0; latest.runId === firstRunId && sent < 10_000; sent += 50) {
      await Promise.all(
        Array.from({ length: 50 }, () => handle.signal(releaseSignal, { grant: 'not-a-grant', slots: [] })),
      );
      latest = await describeLatest();
    }

    expect(latest.runId).not.toBe(firstRunId);
    const firstRun = await fixture.client.workflow.getHandle(handle.workflowId, firstRunId).describe();
    expect(firstRun.historyLength).toBeGreaterThan(2_000);
    // Releases sent while it caught up and handed over land in the old run too. Without a run length it would go on
    // to the server's suggestion (4,199 events here, the dev server suggesting continue-as-new from 4,096).
    expect(firstRun.historyLength).toBeLessThan(3_500);
    await fixture.client.workflow.getHandle(handle.workflowId, latest.runId).terminate('test done');
  }, 240_000);
});
