import { describe, expect, it } from 'vitest';
import { withExpectedFinish } from '../../src/api/expected-finish.js';
import { progressLine } from '../../src/cli/progress-bar.js';
import { pacedAllowances, syncAllowances } from '../../src/core/allowance.js';
import { SyncInputSchema, ZERO_COUNTS, type Carried, type SyncProgress } from '../../src/core/contract.js';
import { expectedSeconds, lastCallSeconds, type SyncLoad } from '../../src/core/expected-finish.js';
import { startWatermark } from '../../src/core/watermark.js';
import { LEADSQUARED_PLANS } from '../../src/vendors/leadsquared/plans.js';
import { describeProgress } from '../../workflows/progress.js';
import { syncProgress } from '../../workflows/sync-state.js';

/** LeadSquared Enterprise: bulk 0.2 calls/s x 50 rows + general 4.8 calls/s x 1 row = 14.8 rows/s. */
const ENTERPRISE = syncAllowances(LEADSQUARED_PLANS.enterprise!);

function sync(id: string, rowsLeft: number, extra: Partial<SyncLoad> = {}): SyncLoad {
  return { id, rowsLeft, share: 1, ...extra };
}

describe("a sync's expected finish", () => {
  it("is its rows left at the plan's rate, all lanes together, when it runs alone", () => {
    const seconds = expectedSeconds(sync('a', 1_480), ENTERPRISE);

    expect(seconds).toBeCloseTo(100);
  });

  it('adds what every lane carries: a lane the plan leaves no calls carries nothing', () => {
    const bulkOnly = ENTERPRISE.map((lane) => (lane.lane === 'general' ? { ...lane, callsPerSecond: 0 } : lane));

    expect(expectedSeconds(sync('a', 1_000), bulkOnly)).toBeCloseTo(100);
    expect(expectedSeconds(sync('a', 1_000), [])).toBeUndefined();
  });

  it('is zero for a sync with no rows left', () => {
    expect(expectedSeconds(sync('a', 0), ENTERPRISE)).toBe(0);
  });

  it('halves the rate while a sync of equal priority runs, and takes the whole plan once it is done', () => {
    // Both at 7.4 rows/s until b's 740 rows are done (100 s), then a's last 260 at 14.8 rows/s.
    const seconds = expectedSeconds(sync('a', 1_000), ENTERPRISE, [sync('b', 740)]);

    expect(seconds).toBeCloseTo(100 + 260 / 14.8);
  });

  it('waits for a sync of higher priority to finish before it gets any of the plan', () => {
    const seconds = expectedSeconds(sync('a', 740), ENTERPRISE, [sync('hot', 148, { priority: 'high' })]);

    expect(seconds).toBeCloseTo(10 + 50);
  });

  it('is not slowed by a sync of lower priority, which yields to it', () => {
    const seconds = expectedSeconds(sync('a', 740, { priority: 'high' }), ENTERPRISE, [sync('backfill', 1e6)]);

    expect(seconds).toBeCloseTo(50);
  });

  it('takes an absent priority as normal', () => {
    const withNormal = expectedSeconds(sync('a', 1_000), ENTERPRISE, [sync('b', 740, { priority: 'normal' })]);
    const withAbsent = expectedSeconds(sync('a', 1_000), ENTERPRISE, [sync('b', 740)]);

    expect(withAbsent).toBeCloseTo(withNormal!);
  });

  it('caps a sync at its share, alone and beside others, and gives what a capped peer leaves to the rest', () => {
    const alone = expectedSeconds(sync('a', 1_480, { share: 0.5 }), ENTERPRISE);
    // b is capped at 30% of each lane, so a gets 70% of the plan (above an even half) until b is done.
    const beside = expectedSeconds(sync('a', 1_036), ENTERPRISE, [sync('b', 4_440, { share: 0.3 })]);

    expect(alone).toBeCloseTo(200);
    expect(beside).toBeCloseTo(1_036 / (0.7 * 14.8));
  });

  it('ignores itself among the others, as a status that lists the whole account passes it', () => {
    const a = sync('a', 1_480);

    expect(expectedSeconds(a, ENTERPRISE, [a])).toBeCloseTo(100);
  });

  it('slows to its measured rate where that is below what the plan gives it (a vendor cutting its windows)', () => {
    const seconds = expectedSeconds(sync('a', 1_480, { recentRowsPerSecond: 7.4 }), ENTERPRISE);

    expect(seconds).toBeCloseTo(200);
  });

  it("keeps to the plan where its measured rate runs above it: a minute's first windows land at once", () => {
    const seconds = expectedSeconds(sync('a', 1_480, { recentRowsPerSecond: 30 }), ENTERPRISE);

    expect(seconds).toBeCloseTo(100);
  });

  it('carries the pace its measured rate shows into the phase after a peer is done, for the peer too', () => {
    // Measured at 90% of its even half (6.66 of 7.4 rows/s), b not yet: both at 90% of the plan, then a alone.
    const seconds = expectedSeconds(sync('a', 1_000, { recentRowsPerSecond: 0.9 * 7.4 }), ENTERPRISE, [sync('b', 740)]);

    expect(seconds).toBeCloseTo((100 + 260 / 14.8) / 0.9);
  });

  it("takes the pace of the account's syncs together: syncs of equal priority take turns of a few windows", () => {
    // a ran above its even half and b below it; together they got 90% of the plan.
    const a = sync('a', 1_000, { recentRowsPerSecond: 10 });
    const b = sync('b', 740, { recentRowsPerSecond: 0.9 * 14.8 - 10 });

    expect(expectedSeconds(a, ENTERPRISE, [b])).toBeCloseTo((100 + 260 / 14.8) / 0.9);
  });
});

describe("a sync's last call", () => {
  it('adds half the interval of the lane whose calls are furthest apart at its share, none without calls', () => {
    expect(lastCallSeconds(ENTERPRISE, 1)).toBeCloseTo(2.5);
    expect(lastCallSeconds(ENTERPRISE, 0.5)).toBeCloseTo(5);
    expect(lastCallSeconds([], 1)).toBe(0);
  });
});

describe('the expected finish a running sync shows', () => {
  const T0 = 1_700_000_000_000;
  const request = SyncInputSchema.parse({ account: 'inbound', source: { kind: 'csv', path: 'leads.csv' }, share: 0.5 });
  const sync: Carried = {
    plan: {
      vendor: 'leadsquared',
      planName: 'enterprise',
      lanes: ENTERPRISE.map((lane) => ({ ...lane, taskQueue: `q.${lane.lane}` })),
      totalRows: 1_480,
      rowsPerSecond: 14.8,
      rejectsDirectory: '/rejects',
    },
    cursor: { position: null, nextRow: 741 },
    scanned: false,
    landed: startWatermark(),
    pending: {},
    counts: { ...ZERO_COUNTS, read: 740 },
    startedAt: T0,
    run: 0,
    paused: false,
  };
  const view = { request, sync, startedAt: T0, backoffUntil: undefined };

  it('is its rows left over its lanes at its share, from now, in its progress, details and progress line', () => {
    const now = T0 + 100_000;

    const progress = syncProgress({ ...view, state: 'running' }, now);

    // 740 rows at half of 14.8 rows/s: 100 s; then its last call, half a bulk call's interval at half the plan (5 s).
    expect(progress.expectedFinishAt).toBeCloseTo(now + 105_000);
    expect(describeProgress(progress)).toContain(`expected to finish at ${new Date(now + 105_000).toISOString()}`);
    expect(progressLine(progress, now)).toContain(
      `~1m45s left (finish ${new Date(now + 105_000).toISOString().slice(11, 19)} UTC)`,
    );
  });

  it('reckons with the lanes as the governor paces them, each window widened by the margin, where the plan says', () => {
    const now = T0 + 100_000;
    const paced = pacedAllowances(LEADSQUARED_PLANS.enterprise!, 200);
    const lanes = sync.plan.lanes.map((lane) => ({
      ...lane,
      pacedCallsPerSecond: paced.find((p) => p.lane === lane.lane)!.callsPerSecond,
    }));

    const progress = syncProgress({ ...view, sync: { ...sync, plan: { ...sync.plan, lanes } }, state: 'running' }, now);

    // 25 calls every 5.2 s, one of them bulk (50 rows): 14.23 rows/s, half of it the sync's; its last bulk call every
    // 10.4 s at that half, so half of that after.
    expect(progress.expectedFinishAt).toBeCloseTo(now + (1_000 * 740) / ((0.5 * (24 + 50)) / 5.2) + 5_200, -1);
  });

  it('is not shown while the sync is paused', () => {
    const progress = syncProgress({ ...view, state: 'paused' }, T0 + 100_000);

    expect(progress).not.toHaveProperty('expectedFinishAt');
    expect(progressLine(progress, T0 + 100_000)).not.toContain('left');
  });
});

describe("a sync's expected finish over its account, as `leadsync status` reckons it", () => {
  const NOW = 1_700_000_000_000;
  /** A sync's last call, on average half a bulk call's interval (5 s at Enterprise's plan) after its rows. */
  const LAST_CALL = 2.5;
  const lanes = ENTERPRISE.map(({ lane, callsPerSecond, rowsPerCall }) => ({ lane, callsPerSecond, rowsPerCall }));
  function running(id: string, read: number, totalRows: number, state: SyncProgress['state'] = 'running') {
    const progress: SyncProgress = {
      state,
      account: 'inbound',
      totalRows,
      counts: { ...ZERO_COUNTS, read },
      share: 1,
      rowsPerSecond: 0,
      startedAt: NOW - 10_000,
      run: 0,
      lanes,
      expectedFinishAt: NOW + 1,
    };
    return { id, progress };
  }

  it("counts the rows left of the account's other running syncs, from each one's progress", () => {
    const progress = withExpectedFinish(running('a', 480, 1_480), [running('b', 0, 740)], NOW);

    expect(progress.expectedFinishAt).toBeCloseTo(NOW + 1_000 * (100 + 260 / 14.8 + LAST_CALL));
  });

  it('reckons from when the sync counted its rows left, which a query answers as of its last change', () => {
    const { id, progress } = running('a', 0, 1_480);

    const reckoned = withExpectedFinish({ id, progress: { ...progress, asOf: NOW - 3_000 } }, [], NOW);

    expect(reckoned.expectedFinishAt).toBeCloseTo(NOW - 3_000 + 1_000 * (100 + LAST_CALL));
  });

  it('leaves out a paused sync, which spends nothing', () => {
    const progress = withExpectedFinish(running('a', 0, 1_480), [running('b', 0, 740, 'paused')], NOW);

    expect(progress.expectedFinishAt).toBeCloseTo(NOW + 1_000 * (100 + LAST_CALL));
  });
});
