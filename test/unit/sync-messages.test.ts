import { describe, expect, it } from 'vitest';
import { readBackoff } from '../../src/core/sync-messages.js';

const NOW = 1_800_000_000_000;

describe("a sync's backoff signal", () => {
  it('is taken when it names a lane and a time within the longest vendor wait', () => {
    expect(readBackoff({ lane: 'bulk', until: NOW + 5_000 }, NOW)).toEqual({ lane: 'bulk', until: NOW + 5_000 });
  });

  it('is dropped when it cannot be a vendor wait: past, beyond an hour, or beyond any date', () => {
    for (const until of [NOW - 3_600_000, NOW + 3_600_001, 1e16, Number.MAX_SAFE_INTEGER, Infinity, NaN]) {
      expect(readBackoff({ lane: 'general', until }, NOW)).toBeUndefined();
    }
  });

  it('is dropped, never thrown over, when it does not read as a backoff', () => {
    const throwsWhenRead = new Proxy(
      {},
      {
        get: () => {
          throw new Error('refused');
        },
      },
    );
    for (const raw of [null, undefined, 42, 'soon', { lane: 'fast', until: NOW }, { until: NOW }, throwsWhenRead]) {
      expect(readBackoff(raw, NOW)).toBeUndefined();
    }
  });
});
