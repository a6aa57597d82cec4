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
});
