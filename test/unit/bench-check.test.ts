import { describe, expect, it } from 'vitest';
import {
  MAX_429S,
  MAX_ACTIONS_PER_THOUSAND_ROWS,
  MIN_SHARE_OF_PLAN,
  actionsCheck,
  rateCheck,
  refusalCheck,
} from '../../bench/check.js';
import { shareOfWindow } from '../../bench/windows.js';
import type { RequestRecord } from '../../src/simulation/request-log.js';

const T0 = 1_700_000_000_000;

function call(at: number, outcome: RequestRecord['outcome'] = 'ok', rows = 1): RequestRecord {
  return { at: T0 + at, method: 'POST', path: '/v2/Lead.CreateOrUpdate', lane: 'general', status: 200, outcome, rows };
}

/** `limit` calls at the start of each of `windows` windows `everyMs` apart, 10 ms between calls: a paced lane. */
function bursts(limit: number, windows: number, everyMs: number): RequestRecord[] {
  return Array.from({ length: windows * limit }, (_, i) => call(Math.floor(i / limit) * everyMs + (i % limit) * 10));
}

describe('shareOfWindow', () => {
  it('measures a lane paced to 5 s windows plus a 200 ms margin at 5 / 5.2 of its limit, edges and all', () => {
    const records = [...bursts(25, 6, 5_200), call(31_200)];

    const { share, gaps } = shareOfWindow(records, { limit: 25, seconds: 5 })!;

    expect(gaps).toBe(126);
    expect(share).toBeCloseTo(5 / 5.2);
  });

  it('measures a lane paced to windows twice as long at half its limit', () => {
    const { share } = shareOfWindow(bursts(25, 6, 10_400), { limit: 25, seconds: 5 })!;

    expect(share).toBeCloseTo(5 / 10.4);
  });

  it('counts the time a stalled window lost against the whole run', () => {
    const records = bursts(25, 6, 5_200).map((r, i) => (i >= 75 ? { ...r, at: r.at + 2_600 } : r));

    const { share } = shareOfWindow(records, { limit: 25, seconds: 5 })!;

    // 25 of the 125 distances are 2.6 s longer: 5.72 s a window on average.
    expect(share).toBeCloseTo(5 / 5.72);
  });

  it('ignores refused calls, which take no room in a window', () => {
    const admitted = bursts(2, 4, 1_000);
    const refused = admitted.map((r) => ({ ...r, at: r.at + 5, outcome: 'rate-limited' as const }));

    const { share } = shareOfWindow([...admitted, ...refused], { limit: 2, seconds: 1 })!;

    expect(share).toBe(1);
  });

  it('measures nothing of a run that never waited for its window', () => {
    expect(shareOfWindow(bursts(60, 1, 0), { limit: 60, seconds: 60 })).toBeUndefined();
  });
});

describe('bench check', () => {
  it('passes a rate at 90% of the plan and fails one just under', () => {
    expect(rateCheck('rate', MIN_SHARE_OF_PLAN, { limit: 60, per: 'minute' }).pass).toBe(true);
    expect(rateCheck('rate', 0.895, { limit: 60, per: 'minute' })).toEqual({
      figure: 'rate',
      measured: '53.7 calls per minute (89.5%)',
      threshold: '>= 54.0 (90% of 60)',
      pass: false,
    });
  });

  it('fails a run that measured no rate', () => {
    expect(rateCheck('rate', undefined, { limit: 25, per: '5 s' }).pass).toBe(false);
  });

  it(`passes ${MAX_429S} 429s and fails one more`, () => {
    expect(refusalCheck('429s', MAX_429S, 100).pass).toBe(true);
    expect(refusalCheck('429s', MAX_429S + 1, 100)).toEqual({
      figure: '429s',
      measured: `${MAX_429S + 1} of 100 requests`,
      threshold: `<= ${MAX_429S}`,
      pass: false,
    });
  });
  it(`passes ${MAX_ACTIONS_PER_THOUSAND_ROWS} Temporal actions per 1,000 rows and fails more, or none counted`, () => {
    const spent = (updates: number) =>
      new Map([
        ['UpdateWorkflowExecution_Acceptance', updates],
        ['ScheduleActivityTask', 20],
      ]);

    expect(actionsCheck('actions', spent(MAX_ACTIONS_PER_THOUSAND_ROWS - 20), 1_000).pass).toBe(true);
    expect(actionsCheck('actions', spent(130), 1_000)).toEqual({
      figure: 'actions',
      measured: '150 (UpdateWorkflowExecution_Acceptance 130, ScheduleActivityTask 20)',
      threshold: `<= ${MAX_ACTIONS_PER_THOUSAND_ROWS}`,
      pass: false,
    });
    expect(actionsCheck('actions', undefined, 1_000).pass).toBe(false);
  });
});
