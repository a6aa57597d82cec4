import { describe, expect, it } from 'vitest';
import {
  earliestSlot,
  emptyLedger,
  joinedSlot,
  moveSlot,
  pacedWindows,
  pause,
  recordSlot,
  releaseSlot,
  slotsIn,
  type Ledger,
} from '../../src/core/governor/ledger.js';
import { SMARTLEAD_PLANS } from '../../src/vendors/smartlead/plans.js';

function reserveMany(ledgers: { ledger: Ledger; windows: ReturnType<typeof pacedWindows> }[], count: number, from = 0) {
  const slots: number[] = [];
  for (let i = 0; i < count; i++) {
    const at = earliestSlot(ledgers, from);
    recordSlot(ledgers, at, from);
    slots.push(at);
  }
  return slots;
}

function maxInAnySpan(slots: number[], spanMs: number): number {
  return Math.max(...slots.map((s) => slots.filter((t) => t >= s && t < s + spanMs).length));
}

describe('ledger', () => {
  it('gives a released slot to the next call, and ignores a slot it does not hold', () => {
    const bulk = { ledger: emptyLedger(), windows: pacedWindows([{ limit: 1, seconds: 5 }], 0) };
    const [first, second] = reserveMany([bulk], 2);

    releaseSlot(bulk.ledger, second!);
    releaseSlot(bulk.ledger, 12_345);

    expect(bulk.ledger.slots).toEqual([first]);
    expect(earliestSlot([bulk], 0)).toBe(second);
  });

  it('moves a late-answered slot where the vendor may have counted it, so the next call waits a window from there', () => {
    const bulk = { ledger: emptyLedger(), windows: pacedWindows([{ limit: 1, seconds: 5 }], 200) };
    const [first] = reserveMany([bulk], 1);

    moveSlot(bulk.ledger, first!, first! + 700);
    moveSlot(bulk.ledger, 12_345, 13_000);

    expect(bulk.ledger.slots).toEqual([first! + 700]);
    expect(earliestSlot([bulk], 0)).toBe(first! + 700 + 5200);
  });

  it('lets a full window of calls go at once, then holds the next until the first has left the window', () => {
    const general = { ledger: emptyLedger(), windows: pacedWindows([{ limit: 25, seconds: 5 }], 0) };

    const slots = reserveMany([general], 26);

    expect(slots.slice(0, 25).every((s) => s === 0)).toBe(true);
    expect(slots[25]).toBe(5000);
  });

  it('never puts more than the limit in any window span, margin included', () => {
    const windows = pacedWindows([{ limit: 5, seconds: 5 }], 200);
    const lane = { ledger: emptyLedger(), windows };

    const slots = reserveMany([lane], 200);

    expect(maxInAnySpan(slots, 5200)).toBe(5);
    expect(slots.at(-1)).toBe(39 * 5200);
  });

  it('spaces the calls of a window too large to leave at once evenly over its span, at the same long-run rate', () => {
    const lane = { ledger: emptyLedger(), windows: pacedWindows([{ limit: 200, seconds: 1 }], 100) };

    const slots = reserveMany([lane], 400);

    // 1,100 ms (the window and its margin) for every 200 calls, one every 5.5 ms.
    expect(slots.slice(0, 3)).toEqual([0, 5.5, 11]);
    expect(slots.at(-1)).toBeCloseTo(399 * 5.5);
    expect(maxInAnySpan(slots, 1_100)).toBe(200);
  });

  it('holds every window of a lane at once (SmartLead: per second, per minute, per hour)', () => {
    const lane = {
      ledger: emptyLedger(),
      windows: pacedWindows(
        [
          { limit: 10, seconds: 1 },
          { limit: 60, seconds: 60 },
          { limit: 1000, seconds: 3600 },
        ],
        0,
      ),
    };

    const slots = reserveMany([lane], 1100);

    expect(maxInAnySpan(slots, 1000)).toBeLessThanOrEqual(10);
    expect(maxInAnySpan(slots, 60_000)).toBeLessThanOrEqual(60);
    expect(maxInAnySpan(slots, 3_600_000)).toBeLessThanOrEqual(1000);
  });

  it('makes a bulk call spend from the general lane too, when the plan says so', () => {
    const general = { ledger: emptyLedger(), windows: pacedWindows([{ limit: 2, seconds: 5 }], 0) };
    const bulk = { ledger: emptyLedger(), windows: pacedWindows([{ limit: 1, seconds: 5 }], 0) };

    const bulkSlot = earliestSlot([bulk, general], 0);
    recordSlot([bulk, general], bulkSlot, 0);
    const single = reserveMany([general], 2);

    expect(bulkSlot).toBe(0);
    expect(single).toEqual([0, 5000]);
  });

  it('waits out a pause the vendor asked for', () => {
    const lane = { ledger: emptyLedger(), windows: pacedWindows([{ limit: 10, seconds: 1 }], 0) };
    pause(lane.ledger, 30_000);

    expect(earliestSlot([lane], 1000)).toBe(30_000);
  });

  it('forgets slots no window can see from now on, so the ledger stays small', () => {
    const lane = { ledger: emptyLedger(), windows: pacedWindows([{ limit: 2, seconds: 1 }], 0) };
    reserveMany([lane], 1000);

    recordSlot([lane], earliestSlot([lane], 600_000), 600_000);

    expect(lane.ledger.slots).toEqual([600_000]);
  });

  it('lets single calls take the free general slots before a bulk call granted a window ahead', () => {
    const windows = {
      general: pacedWindows([{ limit: 25, seconds: 5 }], 150),
      bulk: pacedWindows([{ limit: 1, seconds: 5 }], 150),
    };
    const general = { ledger: emptyLedger(), windows: windows.general };
    const bulk = { ledger: emptyLedger(), windows: windows.bulk };
    const bulkNow = earliestSlot([bulk, general], 0);
    recordSlot([bulk, general], bulkNow, 0);
    const bulkNext = earliestSlot([bulk, general], 100);
    recordSlot([bulk, general], bulkNext, 100);

    const singles = reserveMany([general], 24, 200);

    expect(bulkNext).toBe(5_150);
    expect(singles.every((slot) => slot === 200)).toBe(true);
    expect(earliestSlot([general], 200)).toBeGreaterThan(200);
    expect(maxInAnySpan(general.ledger.slots, 5_150)).toBe(25);
  });

  it('holds every Pro window over two hours of slots, reserved out of order by two syncs at once', () => {
    const pro = SMARTLEAD_PLANS.pro!.lanes.general!.windows;
    const lane = { ledger: emptyLedger(), windows: pacedWindows(pro, 0) };
    const half = {
      ledger: lane.ledger,
      windows: pacedWindows(
        pro.map((w) => ({ ...w, limit: w.limit / 2 })),
        0,
      ),
    };

    const slots: number[] = [];
    for (let now = 0; slots.length < 7_000; now += 500) {
      for (const ledgers of [[lane], [half]]) {
        const at = earliestSlot(ledgers, now);
        recordSlot(ledgers, at, now);
        slots.push(at);
      }
    }

    slots.sort((a, b) => a - b);
    expect(maxInAnySpan(slots.slice(-400), 1_000)).toBeLessThanOrEqual(20);
    expect(maxInAnySpan(slots.slice(-400), 60_000)).toBeLessThanOrEqual(120);
    expect(maxInAnySpan(slots, 3_600_000)).toBeLessThanOrEqual(3_000);
  });

  it('counts the slots a vendor sees in a span, the end included and the start not', () => {
    const ledger: Ledger = { slots: [0, 1_000, 1_000, 2_000, 3_000], pausedUntil: 0 };

    expect(slotsIn(ledger, 0, 2_000)).toBe(3);
    expect(slotsIn(ledger, -1, 3_000)).toBe(5);
    expect(slotsIn(ledger, 3_000, 9_000)).toBe(0);
  });
});

describe('a slot joining the room freeing after it', () => {
  const general = () => ({ ledger: emptyLedger(), windows: pacedWindows([{ limit: 25, seconds: 5 }], 200) });

  it('waits for the room that frees latest within its bound, so the calls after go together', () => {
    const lane = general();
    reserveMany([lane], 1, 0);
    reserveMany([lane], 23, 500);

    // A lone call's room frees at 5,200 and the burst's at 5,700: a call that may wait a quarter window goes at 5,700.
    expect(earliestSlot([lane], 5_200)).toBe(5_200);
    expect(joinedSlot([lane], 5_200, 5_200 + 1_300)).toBe(5_700);
  });

  it('stays at its earliest when no room frees within its bound, or none would take the call', () => {
    const lane = general();
    reserveMany([lane], 1, 0);
    reserveMany([lane], 23, 2_000);
    const full = { ledger: emptyLedger(), windows: pacedWindows([{ limit: 1, seconds: 5 }], 200) };
    reserveMany([full], 1, 5_000);

    // The burst's room frees at 7,200: beyond a bound of 1,300 from 5,200.
    expect(joinedSlot([lane], 5_200, 6_500)).toBe(5_200);
    // Room frees in the first ledger at 7,200, but the second holds a call there for its whole window.
    expect(joinedSlot([lane, full], 5_200, 7_500)).toBe(5_200);
  });
});
