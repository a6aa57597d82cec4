import { describe, expect, it } from 'vitest';
import {
  DECREASE,
  INCREASE,
  MIN_FACTOR,
  adaptedWindows,
  forgiveMs,
  onQuotaReading,
  onRefused,
  recover,
  type LaneAdaptation,
} from '../../src/core/governor/adaptation.js';
import {
  earliestSlot,
  emptyLedger,
  pacedWindows,
  pause,
  recordSlot,
  type Ledger,
} from '../../src/core/governor/ledger.js';
import { SharedKeyTenant } from '../../src/simulation/shared-tenant.js';
import { SlidingWindowLimiter, bindingWindow } from '../../src/simulation/sliding-window.js';
import { SMARTLEAD_PLANS } from '../../src/vendors/smartlead/plans.js';

const STANDARD = SMARTLEAD_PLANS.standard!.lanes.general!.windows;
const [perSecond, perMinute, perHour] = STANDARD as [(typeof STANDARD)[0], (typeof STANDARD)[0], (typeof STANDARD)[0]];

/** Two refusals of `window`, the second at `at`: the first is forgiven, the second cuts. */
function refusedTwice(adaptation: LaneAdaptation, window: (typeof STANDARD)[0], at: number): void {
  onRefused(adaptation, STANDARD, window, at - 1, false);
  onRefused(adaptation, STANDARD, window, at, false);
}

function ledgerWith(slots: number[]): Ledger {
  return { ...emptyLedger(), slots: [...slots].sort((a, b) => a - b) };
}

describe('lane adaptation', () => {
  it('leaves the plan alone until the vendor shows pressure', () => {
    expect(adaptedWindows(STANDARD, {})).toEqual(STANDARD);
  });

  it('forgives the first 429 after a quiet spell, and forgets it once the spell has passed', () => {
    const adaptation: LaneAdaptation = {};

    onRefused(adaptation, STANDARD, perMinute, 1_000, false);
    expect(adaptedWindows(STANDARD, adaptation)).toEqual(STANDARD);

    recover(adaptation, 1_000 + forgiveMs(perMinute));
    expect(adaptation).toEqual({});
  });

  it('forgives refusals a spell apart, as stalls come, but cuts for one within a window or two of the last', () => {
    const lsq = [{ limit: 1_000, seconds: 5 }];
    const [fiveSeconds] = lsq as [(typeof lsq)[0]];
    const stalls: LaneAdaptation = {};
    const pressure: LaneAdaptation = {};

    onRefused(stalls, lsq, fiveSeconds, 0, false);
    recover(stalls, forgiveMs(fiveSeconds));
    onRefused(stalls, lsq, fiveSeconds, forgiveMs(fiveSeconds), false);
    onRefused(pressure, lsq, fiveSeconds, 0, false);
    onRefused(pressure, lsq, fiveSeconds, 2 * 5_000, false);

    expect(adaptedWindows(lsq, stalls)).toEqual(lsq);
    expect(adaptedWindows(lsq, pressure)).toEqual([{ limit: 1_000 * DECREASE, seconds: 5 }]);
  });

  it('cuts the refusing window multiplicatively on a second 429 within the spell, and only that window when named', () => {
    const adaptation: LaneAdaptation = {};

    refusedTwice(adaptation, perMinute, 1_000);

    expect(adaptedWindows(STANDARD, adaptation)).toEqual([
      perSecond,
      { ...perMinute, limit: Math.floor(60 * DECREASE) },
      perHour,
    ]);
  });

  it('cuts once per congestion event: the 429s of calls already in flight do not cut again', () => {
    const adaptation: LaneAdaptation = {};

    refusedTwice(adaptation, perMinute, 1_000);
    onRefused(adaptation, STANDARD, perMinute, 1_010, true);
    onRefused(adaptation, STANDARD, perMinute, 1_020, true);

    expect(adaptation['60']?.factor).toBe(DECREASE);
  });

  it('suspects every window when a 429 does not say which refused, and never goes below the floor', () => {
    const adaptation: LaneAdaptation = {};

    for (let i = 0; i < 50; i++) onRefused(adaptation, STANDARD, undefined, i * 10_000, false);

    expect(Object.values(adaptation).map((w) => w.factor)).toEqual([MIN_FACTOR, MIN_FACTOR, MIN_FACTOR]);
    expect(adaptedWindows(STANDARD, adaptation).every((w) => w.limit >= 1)).toBe(true);
  });

  it('comes back additively, one step per quiet period, and forgets a window back at its limit', () => {
    const adaptation: LaneAdaptation = {};
    refusedTwice(adaptation, perMinute, 0);

    recover(adaptation, 59_999);
    expect(adaptation['60']?.factor).toBe(DECREASE);

    recover(adaptation, 60_000);
    expect(adaptation['60']?.factor).toBeCloseTo(DECREASE + INCREASE);

    recover(adaptation, 60_000 * 100);
    expect(adaptation['60']).toBeUndefined();
  });

  it('starts the quiet period again at every new sign of pressure', () => {
    const adaptation: LaneAdaptation = {};
    refusedTwice(adaptation, perSecond, 0);
    onRefused(adaptation, STANDARD, perSecond, 900, true);

    recover(adaptation, 1_500);

    expect(adaptation['1']?.factor).toBe(DECREASE);
  });
});

describe('quota readings', () => {
  it('ignores a reading that our own calls explain', () => {
    const adaptation: LaneAdaptation = {};
    const ledger = ledgerWith([1_000, 2_000, 3_000]);

    onQuotaReading(adaptation, ledger, STANDARD, { limit: 60, remaining: 57, resetAtMs: 61_000 }, 3_000, 150);

    expect(adaptation).toEqual({});
    expect(ledger.pausedUntil).toBe(0);
  });

  it('keeps to what another client on the key leaves of the window it reads', () => {
    const adaptation: LaneAdaptation = {};
    const ledger = ledgerWith([1_000, 2_000, 3_000]);

    // The vendor counts 18 calls in the minute; 3 are ours, so 15 are someone else's.
    onQuotaReading(adaptation, ledger, STANDARD, { limit: 60, remaining: 42, resetAtMs: 61_000 }, 3_000, 150);

    expect(adaptedWindows(STANDARD, adaptation)[1]).toEqual({ ...perMinute, limit: 45 });
    expect(ledger.pausedUntil).toBe(0);
  });

  it('reads calls of another client in the minute as a rate that goes on through the hour', () => {
    const adaptation: LaneAdaptation = {};
    const ledger = ledgerWith(Array.from({ length: 55 }, (_, i) => i * 1_000));

    onQuotaReading(adaptation, ledger, STANDARD, { limit: 60, remaining: 0, resetAtMs: 61_000 }, 54_000, 150);

    // 5 calls a minute are 300 an hour: the hour leaves us 700.
    expect(adaptedWindows(STANDARD, adaptation)).toEqual([
      perSecond,
      { ...perMinute, limit: 55 },
      { ...perHour, limit: 700 },
    ]);
    expect(ledger.pausedUntil).toBe(61_000);
  });

  it('does not read a rate from the burst window, which holds too few calls for one', () => {
    const adaptation: LaneAdaptation = {};

    onQuotaReading(adaptation, ledgerWith([500]), STANDARD, { limit: 10, remaining: 8, resetAtMs: 1_000 }, 500, 150);

    expect(Object.keys(adaptation)).toEqual(['1']);
  });

  it('does not count our calls made up to a margin before the window as someone else’s', () => {
    const adaptation: LaneAdaptation = {};
    const ledger = ledgerWith([0, 60_100]);

    // The slot at 0 may have been made 100 ms late; the vendor then still counts it at 60,100.
    onQuotaReading(adaptation, ledger, STANDARD, { limit: 60, remaining: 58, resetAtMs: 61_000 }, 60_100, 150);

    expect(adaptation).toEqual({});
  });

  it('pauses until the reset when the vendor says the window is full and our calls do not fill it', () => {
    const adaptation: LaneAdaptation = {};
    const ledger = ledgerWith([5_000]);

    onQuotaReading(adaptation, ledger, STANDARD, { limit: 1000, remaining: 0, resetAtMs: 900_000 }, 5_000, 150);

    expect(ledger.pausedUntil).toBe(900_000);
    const lane = { ledger, windows: pacedWindows(adaptedWindows(STANDARD, adaptation), 150) };
    expect(earliestSlot([lane], 6_000)).toBe(900_000);
  });

  it('leaves alone a reading of a window the plan does not have', () => {
    const adaptation: LaneAdaptation = {};

    onQuotaReading(adaptation, ledgerWith([]), STANDARD, { limit: 77, remaining: 0, resetAtMs: 9 }, 1, 150);

    expect(adaptation).toEqual({});
  });

  it('shares a key with a steady other client: few 429s, and most of what the other client leaves', () => {
    // The simulator's own limiter and shared-key tenant, driven on a virtual clock: two hours of Standard with
    // another client spending 30% of the hourly allowance, every answer fed back as the governor would.
    const limiter = new SlidingWindowLimiter({ general: STANDARD });
    const tenant = new SharedKeyTenant(() => limiter, ['general'], (0.3 * 1000) / 3600);
    const adaptation: LaneAdaptation = {};
    const ledger = emptyLedger();
    const calls: number[] = [];
    let refusals = 0;
    let ticked = 0;
    for (let t = 0; t < 2 * 3_600_000; t += 1) {
      recover(adaptation, t);
      const lane = { ledger, windows: pacedWindows(adaptedWindows(STANDARD, adaptation), 150) };
      t = earliestSlot([lane], t);
      if (t >= 2 * 3_600_000) break;
      recordSlot([lane], t, t);
      // The other client goes on while we wait, a call every 12 s, as the simulator's ticks make it.
      for (; ticked + 1_000 <= t; ticked += 1_000) tenant.tick(ticked + 1_000);
      tenant.tick(t);
      const admission = limiter.tryAdmit(['general'], t);
      if (!admission.admitted) {
        refusals++;
        onRefused(adaptation, STANDARD, admission.refusedBy, t, t < ledger.pausedUntil);
        pause(ledger, t + admission.retryAfterMs);
        continue;
      }
      calls.push(t);
      const binding = bindingWindow(limiter.usage(['general'], t))!;
      onQuotaReading(adaptation, ledger, STANDARD, binding, t, 150);
    }

    const secondHour = calls.filter((t) => t >= 3_600_000).length;
    expect(refusals).toBeLessThan(calls.length / 100);
    expect(secondHour).toBeGreaterThanOrEqual(0.8 * 700);
    expect(secondHour).toBeLessThanOrEqual(700);
    const other = tenant.report();
    expect(other.refused).toBeLessThan(0.05 * (other.spent + other.refused));
  });
});
