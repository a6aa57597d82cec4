import { describe, expect, it } from 'vitest';
import type { LaneRun } from '../../src/core/contract.js';
import {
  chunkRows,
  chunkSizes,
  maxInFlight,
  pageChunks,
  scanWants,
  type LaneQueue,
} from '../../workflows/lane-flow.js';

// LeadSquared Standard's general lane: 2.8 calls a second of 25 leads.
const general: LaneRun = { lane: 'general', taskQueue: 'general-queue', rowsPerCall: 25, callsPerSecond: 2.8 };
const bulk: LaneRun = { lane: 'bulk', taskQueue: 'bulk-queue', rowsPerCall: 25, callsPerSecond: 2.8 };
const long = { share: 1, span: 'long' } as const;
const windows = { share: 1, span: 'window' } as const;
const beforeWindows = { share: 1, span: 'tenth' } as const;

const queue = (lane: LaneRun, pendingChunks = 0, queuedRows = 0): LaneQueue => ({ lane, pendingChunks, queuedRows });

describe('how a lane cuts its allowance into chunks', () => {
  it('fills a chunk with a window of calls, at the sync share', () => {
    expect(chunkRows(general, windows)).toBe(14 * 25);
    expect(chunkRows(general, { share: 0.5, span: 'window' })).toBe(7 * 25);
  });

  it('fills a long chunk with fifteen seconds of calls, at the sync share, at most 75 calls', () => {
    expect(chunkRows(general, long)).toBe(42 * 25);
    expect(chunkRows(general, { share: 0.5, span: 'long' })).toBe(21 * 25);
    expect(chunkRows({ ...general, callsPerSecond: 100 }, long)).toBe(75 * 25);
  });

  it('keeps two long chunks in flight on a slow lane: one sending, the next ready', () => {
    expect(maxInFlight(general, long)).toBe(2);
    expect(maxInFlight({ ...general, callsPerSecond: 0.1 }, long)).toBe(2);
  });

  it('asks a scan for thirty seconds of a lane in long chunks: two of them', () => {
    expect(pageChunks(general, long)).toBe(2);
  });

  it('keeps the chunks of syncs started before window chunks as they were: a tenth of a second of calls, at least one', () => {
    expect(chunkRows(general, beforeWindows)).toBe(25);
    expect(chunkRows({ ...general, callsPerSecond: 100 }, beforeWindows)).toBe(10 * 25);
  });

  it('keeps at least four chunks in flight on a slow lane, so that it can keep up with a burst', () => {
    expect(maxInFlight(general, windows)).toBe(4);
    expect(maxInFlight({ ...general, callsPerSecond: 0.1 }, windows)).toBe(4);
  });

  it('keeps three seconds of chunks in flight, plus one, and never more than 200', () => {
    // 100 calls a second in chunks of 25 calls: 4 chunks a second.
    expect(maxInFlight({ ...general, callsPerSecond: 100 }, windows)).toBe(13);
    expect(maxInFlight({ ...general, callsPerSecond: 100_000 }, windows)).toBe(200);
  });

  it('keeps no minimum in flight for syncs started before window chunks', () => {
    expect(maxInFlight({ ...general, callsPerSecond: 0.1 }, beforeWindows)).toBe(2);
  });

  it('asks a scan for ten seconds of the lane chunks at a time, at least one', () => {
    expect(pageChunks(general, windows)).toBe(2);
    expect(pageChunks(general, beforeWindows)).toBe(28);
    expect(pageChunks({ ...general, callsPerSecond: 0.01 }, windows)).toBe(1);
  });

  it('cuts rows into chunks of a size, the last one shorter', () => {
    expect(chunkSizes(800, 350)).toEqual([350, 350, 100]);
    expect(chunkSizes(700, 350)).toEqual([350, 350]);
    expect(chunkSizes(0, 350)).toEqual([]);
  });
});

describe('what a scan cuts for each lane', () => {
  const plenty = 1_000_000;

  it('cuts a page of full chunks for a lane running low, and none for a lane with two pages waiting', () => {
    const wants = scanWants([queue(general, 0), queue(bulk, 4)], plenty, windows);

    expect(wants).toEqual([
      { lane: 'general', sizes: [350, 350] },
      { lane: 'bulk', sizes: [] },
    ]);
  });

  it('tops up every lane under two pages when one runs low, so the lanes hold rows in proportion to their rates', () => {
    const wants = scanWants([queue(general, 0), queue(bulk, 3)], plenty, windows);

    expect(wants.map((want) => want.sizes.length)).toEqual([2, 2]);
  });

  it('cuts nothing while no lane runs low', () => {
    const wants = scanWants([queue(general, 2), queue(bulk, 3)], plenty, windows);

    expect(wants.flatMap((want) => want.sizes)).toEqual([]);
  });

  it('cuts only for the lane running low in syncs started before window chunks', () => {
    const wants = scanWants([queue(general, 0), queue(bulk, 28)], plenty, beforeWindows);

    expect(wants.map((want) => want.sizes.length)).toEqual([28, 0]);
  });

  it('splits the source last rows so that the lanes finish together, not a page each', () => {
    const wants = scanWants([queue(general, 0), queue(bulk, 0)], 500, windows);

    expect(wants).toEqual([
      { lane: 'general', sizes: [250] },
      { lane: 'bulk', sizes: [250] },
    ]);
  });

  it('gives the last rows to the lane holding fewer rows already', () => {
    // The bulk lane holds 10 s of rows (70 rows/s): the general lane takes the tail.
    const wants = scanWants([queue(general, 0, 0), queue(bulk, 1, 700)], 500, windows);

    expect(wants).toEqual([
      { lane: 'general', sizes: [350, 150] },
      { lane: 'bulk', sizes: [] },
    ]);
  });

  it('cuts whole pages when more rows remain than the pages hold', () => {
    const wants = scanWants([queue(general, 0), queue(bulk, 0)], 1401, windows);

    expect(wants.flatMap((want) => want.sizes)).toEqual([350, 350, 350, 350]);
  });
});
