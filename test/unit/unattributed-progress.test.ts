import { describe, expect, it } from 'vitest';
import { summary } from '../../src/cli/follow.js';
import { progressLine } from '../../src/cli/progress-bar.js';
import { ZERO_COUNTS, type SyncProgress, type SyncResult } from '../../src/core/contract.js';
import { describeProgress } from '../../workflows/progress.js';

const counts = { ...ZERO_COUNTS, read: 800, accepted: 790, rejected: 2, unattributed: 8, calls: 2 };

describe('rows the vendor refused without naming them, as a person watching the sync sees them', () => {
  it('are shown apart from the accepted and rejected in the progress', () => {
    const progress: SyncProgress = {
      state: 'running',
      account: 'outbound',
      vendor: 'smartlead',
      totalRows: 1_000,
      counts,
      share: 1,
      rowsPerSecond: 40,
      startedAt: 0,
      run: 1,
    };

    expect(describeProgress(progress)).toContain(
      'rows 800 of 1000 (80%): 790 accepted, 2 rejected, 8 refused by the vendor, not named',
    );
    expect(progressLine(progress)).toContain('8 refused by the vendor, not named');
  });

  it('are named in the final summary, and left out when there are none', () => {
    const result: SyncResult = { ...counts, totalRows: 800, seconds: 20, cancelled: false };

    expect(summary(result)).toContain('8 rows refused by the vendor without naming them');
    expect(summary({ ...result, unattributed: 0 })).not.toContain('refused by the vendor');
  });
});
