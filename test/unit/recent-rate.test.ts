import { describe, expect, it } from 'vitest';
import { progressLine } from '../../src/cli/progress-bar.js';
import { ZERO_COUNTS, type SyncProgress } from '../../src/core/contract.js';
import { RecentRate } from '../../workflows/recent-rate.js';

const T0 = 1_700_000_000_000;

/**
 * LeadSquared Enterprise at its ceiling: 74 rows land at the start of every 5.2 s window, the first at once, in a bulk
 * chunk (50 rows) and a general one (24) ending a little apart.
 */
function enterpriseWindows(rate: RecentRate, windows: number): number {
  let read = 0;
  for (let i = 0; i < windows; i++) {
    rate.record(T0 + i * 5_200 + 300, (read += 50));
    rate.record(T0 + i * 5_200 + 500, (read += 24));
  }
  return read;
}

describe("a sync's recent rate", () => {
  it('is not measured until its counts span a few seconds: the first window lands at once', () => {
    const rate = new RecentRate();

    enterpriseWindows(rate, 1);

    expect(rate.rowsPerSecond(T0 + 1_000)).toBeUndefined();
  });

  it("reads the plan's rate at the ceiling, where the average since the start reads far above it", () => {
    const rate = new RecentRate();

    const read = enterpriseWindows(rate, 3);
    const now = T0 + 2 * 5_200 + 400;

    expect(read / ((now - T0) / 1000)).toBeGreaterThan(20);
    expect(rate.rowsPerSecond(now)).toBeCloseTo(74 / 5.2, 0);
  });

  it('falls when nothing lands, and forgets what is more than a minute old', () => {
    const rate = new RecentRate();
    enterpriseWindows(rate, 30);

    const stalled = rate.rowsPerSecond(T0 + 29 * 5_200 + 30_000);

    expect(stalled).toBeLessThan(74 / 5.2 / 1.5);
    rate.record(T0 + 300_000, 30 * 74);
    expect(rate.rowsPerSecond(T0 + 300_000)).toBeUndefined();
  });
});

describe('the progress line', () => {
  const progress: SyncProgress = {
    state: 'running',
    account: 'acme',
    totalRows: 1_000,
    counts: { ...ZERO_COUNTS, read: 116 },
    share: 1,
    rowsPerSecond: 116,
    ceilingRowsPerSecond: 14.8,
    startedAt: T0,
    run: 0,
  };

  it('shows the recent rate against the plan, and says the rate is being measured before there is one', () => {
    expect(progressLine(progress)).toContain('measuring of 14.8 rows/s');
    expect(progressLine({ ...progress, recentRowsPerSecond: 14.2 })).toContain('14.2 of 14.8 rows/s');
  });
});
