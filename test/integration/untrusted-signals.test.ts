import { describe, expect, it } from 'vitest';
import { startSync, syncProgress } from '../../src/api/syncs.js';
import {
  governorStateQuery,
  governorWorkflowId,
  moveSignal,
  releaseSignal,
  reportSignal,
} from '../../src/core/governor/protocol.js';
import { backoffSignal } from '../../src/core/sync-messages.js';
import { eventually } from '../helpers/run-cli.js';
import { LEAD_HEADER, csvLines, leadRows, leadSquaredSyncFixture, writeCsv } from '../helpers/sync-harness.js';

/**
 * Anyone with access to the namespace can signal a sync or an account's governor, with anything: the temporal CLI,
 * a script with a typo, a worker of another version. None of it may unpace the account or stall the sync.
 */
describe('a LeadSquared Enterprise sync sent malformed and forged signals', () => {
  const fixture = leadSquaredSyncFixture({ plan: 'enterprise' });

  it('lands every row once, with no 429, whatever the signals say', async () => {
    const rows = leadRows(900);
    const file = await writeCsv(fixture.setup.directory, 'leads.csv', LEAD_HEADER, csvLines(rows));
    const handle = await startSync(
      fixture.client,
      { account: fixture.setup.accountName, source: { kind: 'csv', path: file } },
      { taskQueue: fixture.setup.taskQueue },
    );
    const governor = fixture.client.workflow.getHandle(governorWorkflowId(fixture.setup.accountName));
    await eventually(
      () => syncProgress(handle),
      (progress) => progress.counts.accepted > 0,
    );
    const held = (await governor.query(governorStateQuery)).ledgers.general!.slots;
    const forgedGrant = '00000000-0000-4000-8000-000000000001';

    // A pause past Node's longest timer, once fired at once and left every call unpaced.
    await governor.signal(reportSignal, {
      kind: 'rate-limited',
      grant: forgedGrant,
      at: Date.now(),
      retryAfterMs: 1e15,
    });
    await governor.signal(reportSignal, {
      kind: 'rate-limited',
      lanes: ['general', 'bulk'],
      at: Date.now(),
      retryAfterMs: 1e15,
    } as never);
    // Slots read from the state query: once freed a whole window for calls the vendor still counted.
    await governor.signal(releaseSignal, { ledgers: ['general', 'bulk'], slots: held } as never);
    await governor.signal(releaseSignal, { grant: forgedGrant, slots: held });
    await governor.signal(moveSignal, { grant: forgedGrant, moves: held.map((from) => ({ from, to: from + 60_000 })) });
    // A backoff no vendor's wait can reach, and none at all: once stalled the sync.
    await handle.signal(backoffSignal, { lane: 'general', until: 1e16 });
    await handle.signal(backoffSignal, null as never);
    await handle.signal(backoffSignal, { lane: 'general', until: Number.MAX_SAFE_INTEGER });

    const result = await handle.result();

    expect(result).toMatchObject({ totalRows: 900, read: 900, accepted: 900, rejected: 0 });
    const stored = fixture.setup.simulator.leads();
    expect(stored).toHaveLength(900);
    expect(stored.filter((lead) => lead.writes !== 1)).toEqual([]);
    expect(fixture.setup.simulator.report({ requests: false }).totals.rateLimited).toBe(0);
    const state = await governor.query(governorStateQuery);
    expect(state.droppedMessages).toBe(5);
    expect(state.rateLimitReports).toBe(0);
  }, 240_000);
});
