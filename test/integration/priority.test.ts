import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { rowsPerSecond } from '../../src/core/allowance.js';
import { LEADSQUARED_PLANS } from '../../src/vendors/leadsquared/plans.js';
import { startSync } from '../../src/api/syncs.js';
import { landedRowsPerSecond } from '../../src/simulation/request-log.js';
import { LOADED_MACHINE_TOLERANCE, vendorWindows } from '../helpers/vendor-windows.js';
import { LEAD_HEADER, csvLines, leadRows, leadSquaredSyncFixture, writeCsv } from '../helpers/sync-harness.js';

const ENTERPRISE = LEADSQUARED_PLANS.enterprise!;
/** A 5-second window widened by the default margin: what the "two windows" count in. */
const WINDOW_MS = 5_200;
/**
 * The issue bounds when the rows land; the test times the sync's result, which also holds the last answer's
 * recording and the workflow's end, on a 2-core machine running the server, simulator and a backfill at the ceiling.
 * Measured: 3.2 s and 3.4 s typically, 10.4 s in one CI run (the hot sync's bulk call waited a whole bulk window behind
 * the backfill's, the worst case of the design: issue 22); without priorities 35 s.
 */
const RESULT_AFTER_LANDING_MS = 1_000;

describe('a high-priority sync started behind a backfill on the same account', () => {
  const fixture = leadSquaredSyncFixture({ plan: 'enterprise' });

  it('lands its rows within two windows, no window goes over, and the backfill goes back to the ceiling', async () => {
    const { setup, client } = fixture;
    // 550 rows at 14.8 rows/s: still running two windows after the hot sync is done.
    const backfillFile = await writeCsv(setup.directory, 'backfill.csv', LEAD_HEADER, csvLines(leadRows(550)));
    const hotFile = await writeCsv(setup.directory, 'hot.csv', LEAD_HEADER, csvLines(leadRows(50)));
    const sync = (path: string, priority: 'normal' | 'high') =>
      startSync(
        client,
        { account: setup.accountName, source: { kind: 'csv', path }, priority },
        { taskQueue: setup.taskQueue },
      );

    const backfill = await sync(backfillFile, 'normal');
    // Long enough for the backfill to keep its chunks in flight at the ceiling.
    await sleep(8_000);
    const startedAt = Date.now();
    const hot = await sync(hotFile, 'high');
    const hotResult = await hot.result();
    const landedAt = Date.now();
    const backfillResult = await backfill.result();

    const requests = setup.simulator.report().requests;
    const plan = rowsPerSecond(ENTERPRISE.lanes);
    const before = landedRowsPerSecond(requests, startedAt - 2 * WINDOW_MS, startedAt);
    const after = landedRowsPerSecond(requests, landedAt + WINDOW_MS, landedAt + 3 * WINDOW_MS);
    const windows = vendorWindows(requests, ENTERPRISE.lanes);
    const took = landedAt - startedAt;
    console.info(
      `high sync of 50 rows behind a backfill: landed in ${(took / 1000).toFixed(1)} s; backfill ` +
        `${((100 * before) / plan).toFixed(1)}% of the plan before, ${((100 * after) / plan).toFixed(1)}% ` +
        `from a window after; ${windows.summary}`,
    );
    expect(hotResult).toMatchObject({ read: 50, accepted: 50 });
    expect(backfillResult).toMatchObject({ read: 550, accepted: 550 });
    expect(took).toBeLessThanOrEqual(2 * WINDOW_MS + RESULT_AFTER_LANDING_MS);
    expect(windows.over, windows.summary).toBeLessThanOrEqual(LOADED_MACHINE_TOLERANCE.overLimit);
    expect(windows.rateLimited, windows.summary).toBeLessThanOrEqual(LOADED_MACHINE_TOLERANCE.rateLimited);
    // Two windows from one window after: the backfill takes every slot the hot sync no longer wants.
    expect(after / plan).toBeGreaterThanOrEqual(0.9);
  }, 120_000);
});
