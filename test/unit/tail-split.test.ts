import { describe, expect, it } from 'vitest';
import { splitTail } from '../../src/core/tail-split.js';

describe("the source's last rows", () => {
  it('go to the lanes so that both finish together: Lite, bulk 10 rows/s and general 0.2 rows/s, equal backlogs', () => {
    const rows = splitTail(
      [
        { rowsPerSecond: 0.2, queuedSeconds: 10 },
        { rowsPerSecond: 10, queuedSeconds: 10 },
      ],
      51,
    );

    expect(rows).toEqual([1, 50]);
  });

  it('go all to the lane with the shorter backlog while it catches up', () => {
    const rows = splitTail(
      [
        { rowsPerSecond: 0.2, queuedSeconds: 40 },
        { rowsPerSecond: 10, queuedSeconds: 10 },
      ],
      100,
    );

    expect(rows).toEqual([0, 100]);
  });

  it('hand out every row, whatever the rounding', () => {
    const rows = splitTail(
      [
        { rowsPerSecond: 4.8, queuedSeconds: 3 },
        { rowsPerSecond: 10, queuedSeconds: 1 },
      ],
      37,
    );

    expect(rows.reduce((a, b) => a + b, 0)).toBe(37);
  });

  it('give a lane of many rows a call whole calls where that finishes sooner: 8 rows wait a window on bulk', () => {
    // Enterprise: general 4.8 rows/s a row a call, bulk 10 rows/s 50 a call, each holding a few seconds of rows.
    const lanes = [
      { rowsPerSecond: 4.8, queuedSeconds: 2, rowsPerCall: 1 },
      { rowsPerSecond: 10, queuedSeconds: 5, rowsPerCall: 50 },
    ];

    const rows = splitTail(lanes, 58);

    // Split by rate, bulk would take 30 rows and general 28: the bulk call carries 30 of its 50, and general is busy
    // until 7.8 s. A full bulk call and 8 rows on general finish as soon (bulk at 10 s) with general done at 3.7 s.
    expect(rows).toEqual([8, 50]);
    expect(
      splitTail(
        lanes.map(({ rowsPerCall: _, ...lane }) => lane),
        58,
      ),
    ).toEqual([28, 30]);
  });

  it('give the rows of a partial call to the lane of a row a call when waiting for another call takes longer', () => {
    const rows = splitTail(
      [
        { rowsPerSecond: 4.8, queuedSeconds: 0, rowsPerCall: 1 },
        { rowsPerSecond: 10, queuedSeconds: 0, rowsPerCall: 50 },
      ],
      58,
    );

    // 50 on bulk (5 s) and 8 on general (1.7 s), rather than a second bulk call of 8 (10 s).
    expect(rows).toEqual([8, 50]);
  });

  it('leave a lane of many rows a call its split where whole calls would finish later', () => {
    const rows = splitTail(
      [
        { rowsPerSecond: 4.8, queuedSeconds: 10, rowsPerCall: 1 },
        { rowsPerSecond: 10, queuedSeconds: 0, rowsPerCall: 50 },
      ],
      70,
    );

    // General is busy for 10 s: the bulk lane takes 70 rows in two calls (10 s), not 50 and 20 more on general.
    expect(rows).toEqual([0, 70]);
  });
});
