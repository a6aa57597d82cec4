import { describe, expect, it } from 'vitest';
import { startSync } from '../../src/api/syncs.js';
import { GOVERNOR_WORKFLOW_TYPE, governorWorkflowId, releaseSignal } from '../../src/core/governor/protocol.js';
import { LEAD_HEADER, csvLines, leadRows, leadSquaredSyncFixture, writeCsv } from '../helpers/sync-harness.js';

/**
 * A governor continues as new long before its history grows large (2,000 events; here 30, so a test sees several):
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

  it('continues as new by 2,000 events unless told otherwise, so a worker can replay it within a task timeout', async () => {
    const governor = await fixture.client.workflow.start(GOVERNOR_WORKFLOW_TYPE, {
      taskQueue: fixture.setup.taskQueue,
      workflowId: `${governorWorkflowId(fixture.setup.accountName)}-default-run`,
      args: [{ account: fixture.setup.accountName }],
    });
    const handle = fixture.client.workflow.getHandle(governor.workflowId);

    // Releases of a grant it never made: each is dropped, but each is an event of its history. Sent until a new run
    // starts, up to 10,000: the server adds them to the history whether or not the workflow has caught up.
    const describeLatest = () => handle.describe();
    let latest = await describeLatest();
    for (let sent = 0; latest.runId === governor.firstExecutionRunId && sent < 10_000; sent += 50) {
      await Promise.all(
        Array.from({ length: 50 }, () => handle.signal(releaseSignal, { grant: 'not-a-grant', slots: [] })),
      );
      latest = await describeLatest();
    }

    expect(latest.runId).not.toBe(governor.firstExecutionRunId);
    const firstRun = await fixture.client.workflow
      .getHandle(governor.workflowId, governor.firstExecutionRunId)
      .describe();
    expect(firstRun.historyLength).toBeGreaterThan(2_000);
    // Releases sent while it caught up and handed over land in the old run too; with 8,000 it would hold them all.
    expect(firstRun.historyLength).toBeLessThan(4_000);
    await fixture.client.workflow.getHandle(governor.workflowId, latest.runId).terminate('test done');
  }, 240_000);
});
