import { describe, expect, it } from 'vitest';
import type { RequestRecord } from '../../src/simulation/request-log.js';
import { vendorWindows } from '../helpers/vendor-windows.js';

const T0 = 1_700_000_000_000;

function request(at: number, lane: RequestRecord['lane'], outcome: RequestRecord['outcome'] = 'ok'): RequestRecord {
  return { at: T0 + at, method: 'POST', path: '/v2/x', lane, status: outcome === 'ok' ? 200 : 429, outcome, rows: 1 };
}

/** LeadSquared's strict reading, on a small plan: 3 general calls and 1 bulk call per 5 s, a bulk call counting as general. */
const STRICT = {
  general: { windows: [{ limit: 3, seconds: 5 }] },
  bulk: { windows: [{ limit: 1, seconds: 5 }], alsoSpends: ['general' as const] },
};

describe('the windows as the vendor counted them', () => {
  it('counts refused requests with the admitted ones, and a bulk call against the general lane too', () => {
    const records = [
      request(0, 'general'),
      request(1_000, 'general'),
      request(2_000, 'bulk'),
      request(2_500, 'general', 'rate-limited'),
      request(3_000, 'bulk', 'rate-limited'),
      request(9_000, 'general'),
    ];

    const counted = vendorWindows(records, STRICT);

    expect(counted.windows).toEqual([
      { lane: 'general', limit: 3, seconds: 5, worst: 5, refused: 2, fromMs: 0, arrivals: '0 1000 2000 2500R 3000R' },
      { lane: 'bulk', limit: 1, seconds: 5, worst: 2, refused: 1, fromMs: 2_000, arrivals: '0 1000R' },
    ]);
    expect(counted.over).toBe(2);
    expect(counted.rateLimited).toBe(2);
    expect(counted.requests).toBe(6);
    expect(counted.summary).toBe(
      'general 3/5 s: worst 5 (2 refused) at +0.0 s [arrivals, ms: 0 1000 2000 2500R 3000R]; ' +
        'bulk 1/5 s: worst 2 (1 refused) at +2.0 s [arrivals, ms: 0 1000R]; 2 429s in 6 requests',
    );
  });

  it('finds every window of a lane full to its limit and none over', () => {
    // SmartLead's three windows, shrunk: 2 a second, 3 a minute, 4 an hour.
    const lanes = {
      general: {
        windows: [
          { limit: 2, seconds: 1 },
          { limit: 3, seconds: 60 },
          { limit: 4, seconds: 3_600 },
        ],
      },
    };
    const records = [0, 500, 30_000, 61_000].map((at) => request(at, 'general'));

    const counted = vendorWindows(records, lanes);

    expect(counted.windows.map((w) => [w.worst, w.limit])).toEqual([
      [2, 2],
      [3, 3],
      [4, 4],
    ]);
    expect(counted.over).toBe(0);
    expect(counted.rateLimited).toBe(0);
  });

  it('reports nothing over on an empty log', () => {
    expect(vendorWindows([], STRICT)).toMatchObject({ over: 0, rateLimited: 0, requests: 0 });
  });
});
