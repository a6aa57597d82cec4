// Workflow-safe: the sync workflow keeps its high-water mark with these.
import { z } from 'zod';
import { SOURCE_REFS, type SourceRef } from './source-registry.js';
import { SinceSchema, type ChunkRange, type Position, type Since } from './source-refs.js';

/**
 * How far in source order every row has landed (accepted by the vendor or reported as a reject): all rows before
 * `nextRow`, up to and including `position`. Chunks finish out of order across lanes; those past a gap wait in
 * `ahead` until the gap closes, so the mark never passes a row still in flight or not yet sent.
 */
export interface Watermark {
  nextRow: number;
  position: Position | null;
  ahead: ChunkRange[];
}

export function startWatermark(): Watermark {
  return { nextRow: 1, position: null, ahead: [] };
}

/** Records a chunk that finished and moves the mark over every chunk now contiguous with it. */
export function markLanded(mark: Watermark, chunk: ChunkRange): void {
  mark.ahead.push(chunk);
  mark.ahead.sort((a, b) => a.firstRow - b.firstRow);
  while (mark.ahead[0]?.firstRow === mark.nextRow) {
    const next = mark.ahead.shift()!;
    mark.nextRow += next.rows;
    mark.position = next.to;
  }
}

/**
 * Where the next incremental sync of this source starts: after the last row that landed, or where this one started
 * when none did. Undefined for a source that is not incremental.
 */
export function nextSince(source: SourceRef, mark: Watermark): Since | undefined {
  return SOURCE_REFS.sinceAfter(source, mark.position);
}

/** What one run of a recurring sync reads of the run before it: the mark it reached, nothing else of its result. */
export const HandedOnSchema = z.object({ nextSince: SinceSchema.optional() });
