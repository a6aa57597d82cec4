import { describe, expect, it } from 'vitest';
import { LaneBacklog } from '../../workflows/lane-backlog.js';

const T0 = 1_800_000_000_000;
// Enterprise's general lane: 4.8 single-row calls a second, 72 rows a 15-s chunk.
const RATE = 4.8;

describe("a lane's chunks in flight, by what they still hold", () => {
  it('counts the rows in flight less what the lane has sent of them at its rate', () => {
    const lane = new LaneBacklog();

    lane.start(72, T0);
    lane.start(72, T0);

    expect(lane.rowsLeft(RATE, T0)).toBeCloseTo(144);
    expect(lane.rowsLeft(RATE, T0 + 10_000)).toBeCloseTo(96);
    expect(lane.rowsLeft(RATE, T0 + 60_000)).toBe(0);
  });

  it('credits the chunk still in flight with what the lane sent beyond the one that ended, whichever was scheduled first', () => {
    const lane = new LaneBacklog();
    lane.start(72, T0);
    lane.start(72, T0);

    // The chunk scheduled second started first on the worker and ended 16 s in: the lane had sent 76.8 rows.
    lane.end(72, RATE, T0 + 16_000);

    expect(lane.rowsLeft(RATE, T0 + 16_000)).toBeCloseTo(72 - 4.8);
    expect(lane.rowsLeft(RATE, T0 + 20_000)).toBeCloseTo(72 - 4.8 - 4 * RATE);
  });

  it('leaves the chunks in flight whole when one ends sooner than the rate says, and holds nothing once none is', () => {
    const lane = new LaneBacklog();
    lane.start(72, T0);
    lane.start(72, T0);

    lane.end(72, RATE, T0 + 2_000);
    const early = lane.rowsLeft(RATE, T0 + 2_000);
    lane.end(72, RATE, T0 + 9_000);

    expect(early).toBe(72);
    expect(lane.rowsLeft(RATE, T0 + 9_000)).toBe(0);
  });

  it('reckons a chunk starting after an idle spell from when it starts', () => {
    const lane = new LaneBacklog();
    lane.start(50, T0);
    lane.end(50, 10, T0 + 5_000);

    lane.start(50, T0 + 60_000);

    expect(lane.rowsLeft(10, T0 + 60_000)).toBe(50);
    expect(lane.rowsLeft(10, T0 + 62_000)).toBeCloseTo(30);
  });
});
