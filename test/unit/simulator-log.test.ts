import { describe, expect, it } from 'vitest';
import { RequestLog, busiestWindow, peakPerWindow, type RequestRecord } from '../../src/simulation/request-log.js';

const T0 = 1_700_000_000_000;

function record(at: number, outcome: RequestRecord['outcome'] = 'ok', rows = 1): RequestRecord {
  return {
    at: T0 + at,
    method: 'POST',
    path: '/v2/LeadManagement.svc/Lead.CreateOrUpdate',
    lane: 'general',
    status: 200,
    outcome,
    rows,
  };
}

describe('RequestLog', () => {
  it('gives back every record as added, past its initial capacity', () => {
    const log = new RequestLog();
    const added = Array.from({ length: 3_000 }, (_, i) =>
      i % 3 === 0 ? { ...record(i, 'rate-limited', 0), status: 429, lane: 'bulk' as const } : record(i),
    );
    for (const r of added) log.add(r);

    expect(log.records()).toEqual(added);
  });

  it('keeps totals as counters', () => {
    const log = new RequestLog();
    log.add(record(0, 'ok', 48), 2);
    log.add(record(1, 'rate-limited', 0));
    log.add(record(2, 'fault-500', 0));
    log.add(record(3, 'fault-lost-response', 1));
    log.add(record(4, 'fault-drop', 0));

    expect(log.totals()).toEqual({ requests: 5, rateLimited: 1, faults: 3, rowsAccepted: 49, rowsRejected: 2 });
    log.clear();
    expect(log.totals().requests).toBe(0);
    expect(log.records()).toEqual([]);
  });
});

describe('RequestLog row writes', () => {
  it('gives each row the requests that wrote it, by kind, in order, and forgets them on clear', () => {
    const log = new RequestLog();
    log.add(record(0, 'ok', 2), 0, [
      { kind: 'lead', key: 'a@x.io' },
      { kind: 'lead', key: 'b@x.io' },
    ]);
    log.add(record(1, 'rate-limited', 0));
    log.add(record(2, 'fault-lost-response', 1), 0, [{ kind: 'lead', key: 'a@x.io' }]);
    log.add(record(3, 'ok', 1), 0, [{ kind: 'activity', key: '["a@x.io",201]' }]);
    const many = Array.from({ length: 3_000 }, (_, i) => ({ kind: 'lead' as const, key: `many${i}@x.io` }));
    log.add(record(4, 'ok', 3_000), 0, many);

    const leads = log.rowWrites('lead');

    expect(leads.get('a@x.io')).toEqual([0, 2]);
    expect(leads.get('b@x.io')).toEqual([0]);
    expect(leads.get('many2999@x.io')).toEqual([4]);
    expect(leads.size).toBe(3_002);
    expect(log.rowWrites('activity')).toEqual(new Map([['["a@x.io",201]', [3]]]));
    log.clear();
    expect(log.rowWrites('lead').size).toBe(0);
  });

  it('keeps who sent a request and whether its answer was delivered', () => {
    const log = new RequestLog();
    const first = log.add({ ...record(0), sender: 'worker 7' });
    log.add(record(1));
    log.markUndelivered(first);

    expect(log.records()).toEqual([{ ...record(0), sender: 'worker 7', undelivered: true }, record(1)]);
  });
});

describe('peakPerWindow', () => {
  it('counts the most quota-spending requests in any sliding span', () => {
    const records = [
      record(0),
      record(1_000),
      record(4_999),
      record(5_000, 'rate-limited'),
      record(5_001, 'auth'),
      record(6_000),
      record(6_500),
    ];

    expect(peakPerWindow(records, 5)).toBe(3);
    expect(peakPerWindow(records, 1)).toBe(2);
    expect(peakPerWindow(records, 5, () => true)).toBe(5);
  });
});

describe('busiestWindow', () => {
  it('names the first and last request of the fullest span, the first such span on a tie', () => {
    const records = [record(0), record(3_000), record(5_000), record(5_100), record(5_200), record(9_000)];

    expect(busiestWindow(records, 5)).toEqual({ requests: 4, from: T0 + 3_000, to: T0 + 5_200 });
    expect(busiestWindow(records, 1)).toEqual({ requests: 3, from: T0 + 5_000, to: T0 + 5_200 });
  });

  it('counts refused requests when told to count every request', () => {
    const records = [record(0), record(100, 'rate-limited'), record(200, 'fault-drop'), record(6_000)];

    expect(busiestWindow(records, 5)).toEqual({ requests: 1, from: T0, to: T0 });
    expect(busiestWindow(records, 5, () => true)).toEqual({ requests: 3, from: T0, to: T0 + 200 });
  });

  it('is undefined when no request counts', () => {
    expect(busiestWindow([record(0, 'rate-limited')], 5)).toBeUndefined();
    expect(peakPerWindow([], 5)).toBe(0);
  });
});
