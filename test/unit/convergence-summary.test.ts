import { describe, expect, it } from 'vitest';
import { summary } from '../../src/cli/follow.js';
import { ZERO_COUNTS, type SyncResult } from '../../src/core/contract.js';

describe('a converging sync, as its final summary shows it', () => {
  const result: SyncResult = {
    ...ZERO_COUNTS,
    read: 410,
    accepted: 10,
    unchanged: 400,
    totalRows: 410,
    seconds: 3,
    cancelled: false,
  };

  it('says how many rows were not sent because they landed before, and what the retry set holds', () => {
    const text = summary({
      ...result,
      retrySet: { size: 3, stuckRows: 1, oldestFailedAt: '2026-12-01T10:00:00.000Z' },
    });

    expect(text).toContain('400 rows unchanged since they landed in an earlier run: not sent');
    expect(text).toContain(
      'retry set: 3 rows to send again in the next run (1 stuck, the oldest failing since 2026-12-01T10:00:00.000Z)',
    );
  });

  it('says neither for a sync that does not converge', () => {
    const text = summary({ ...result, accepted: 410, unchanged: 0 });

    expect(text).not.toContain('unchanged');
    expect(text).not.toContain('retry set');
  });
});
