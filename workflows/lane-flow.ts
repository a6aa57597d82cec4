import { callsPerChunk, type ChunkSpan } from '../src/core/chunk-size.js';
import type { LaneRun } from '../src/core/contract.js';
import type { LaneName } from '../src/core/plans.js';
import { splitTail } from '../src/core/tail-split.js';

/**
 * Each lane gets this many seconds of its allowance cut into chunks per scan: enough to stay busy, little to carry.
 * Long chunks: two of them, so a scan (an activity, a billed action) serves two chunks a lane.
 */
const PAGE_SECONDS: Record<ChunkSpan, number> = { long: 30, window: 10, tenth: 10 };
/**
 * Chunks each lane keeps in flight at the least. A lane whose sustained rate is low may still burst (SmartLead: a
 * minute's 60 calls at 10 a second), and a round trip through a queue of 4 partitions takes long enough that two
 * one-call chunks could not keep up with the burst: four window chunks. Two long chunks carry that burst, and a chunk
 * in flight beyond them would only wait for its slots, heartbeating.
 */
const MIN_IN_FLIGHT: Record<ChunkSpan, number> = { long: 2, window: 4, tenth: 0 };

/**
 * What a sync's lanes cut their chunks by: the sync's share of the plan, and how long a chunk is in the sync's
 * history (the workflow's patches: older histories replay with the chunks they ran with).
 */
export interface ChunkTerms {
  share: number;
  span: ChunkSpan;
  /** The source's last rows go to a lane of many rows a call in whole calls (the workflow's patch, as above). */
  wholeTailCalls?: boolean;
}

/** The lane's calls per second at the sync's share. */
function callsPerSecond(lane: LaneRun, terms: ChunkTerms): number {
  return lane.callsPerSecond * terms.share;
}

function callsPerLaneChunk(lane: LaneRun, terms: ChunkTerms): number {
  return callsPerChunk(callsPerSecond(lane, terms), terms.span);
}

function chunksPerSecond(lane: LaneRun, terms: ChunkTerms): number {
  return callsPerSecond(lane, terms) / callsPerLaneChunk(lane, terms);
}

/** Rows in one full chunk of the lane. */
export function chunkRows(lane: LaneRun, terms: ChunkTerms): number {
  return lane.rowsPerCall * callsPerLaneChunk(lane, terms);
}

/** The lane's rows per second at the sync's share. */
export function rowsPerSecond(lane: LaneRun, share: number): number {
  return lane.callsPerSecond * share * lane.rowsPerCall;
}

/** Enough chunks in flight that the lane never waits on a worker round trip, and no more; at least MIN_IN_FLIGHT. */
export function maxInFlight(lane: LaneRun, terms: ChunkTerms): number {
  const enough = Math.min(200, Math.ceil(chunksPerSecond(lane, terms) * 3) + 1);
  return Math.max(MIN_IN_FLIGHT[terms.span], enough);
}

/** Chunks a scan cuts for the lane at a time: PAGE_SECONDS of its allowance. */
export function pageChunks(lane: LaneRun, terms: ChunkTerms): number {
  return Math.max(1, Math.ceil(chunksPerSecond(lane, terms) * PAGE_SECONDS[terms.span]));
}

/** `rows` cut into chunks of `size`, the last one shorter. */
export function chunkSizes(rows: number, size: number): number[] {
  const sizes = Array<number>(Math.floor(rows / size)).fill(size);
  return rows % size > 0 ? [...sizes, rows % size] : sizes;
}

/** A lane as the next scan finds it: its chunks waiting, and the rows it holds waiting or in flight. */
export interface LaneQueue {
  lane: LaneRun;
  pendingChunks: number;
  queuedRows: number;
}

/** The chunk sizes a scan cuts for one lane (none: the lane has enough waiting). */
export interface LaneWant {
  lane: LaneName;
  sizes: number[];
}

/**
 * What the next scan cuts for each lane, given `remaining` rows of the source not yet cut. A lane running low gets a
 * page; with window chunks, every lane gets its page whenever one runs low (up to two pages waiting), so the lanes
 * hold rows in proportion to their rates and the source's last rows do not all fall to whichever lane asked last: at
 * Pro, a general lane of 0.8 rows/s left with the tail ran 10 s past the bulk lane.
 */
export function scanWants(lanes: readonly LaneQueue[], remaining: number, terms: ChunkTerms): LaneWant[] {
  const page = (queue: LaneQueue) => pageChunks(queue.lane, terms);
  const low = (queue: LaneQueue) => queue.pendingChunks < page(queue);
  const proportional = terms.span !== 'tenth' && lanes.some(low);
  const wanted = lanes.map((queue) => {
    const chunks = low(queue) || (proportional && queue.pendingChunks < 2 * page(queue)) ? page(queue) : 0;
    return { lane: queue.lane.lane, sizes: Array<number>(chunks).fill(chunkRows(queue.lane, terms)) };
  });
  const wantedRows = wanted.reduce((sum, want) => sum + want.sizes.reduce((a, b) => a + b, 0), 0);
  if (!proportional || remaining <= 0 || remaining > wantedRows) return wanted;
  // The source's last rows: split so that the lanes finish together, not a page each.
  const split = splitTail(
    lanes.map((queue) => {
      const rate = rowsPerSecond(queue.lane, terms.share);
      return {
        rowsPerSecond: rate,
        queuedSeconds: queue.queuedRows / rate,
        ...(terms.wholeTailCalls ? { rowsPerCall: queue.lane.rowsPerCall } : {}),
      };
    }),
    remaining,
  );
  return lanes.map((queue, i) => ({
    lane: queue.lane.lane,
    sizes: chunkSizes(split[i]!, chunkRows(queue.lane, terms)),
  }));
}
