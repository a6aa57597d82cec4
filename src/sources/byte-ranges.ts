import type { ChunkRange, Cursor } from '../core/source-refs.js';
import type { ScanResult } from './source.js';

/**
 * Cuts chunks of the asked sizes from a file's records read from the cursor on, each chunk a byte range of whole
 * records (`from` inclusive, `to` exclusive), so a worker reads only its chunk and a retry reads the same rows.
 * `endOf` gives the absolute byte offset where a record ends; `records` is closed before this returns.
 */
export async function scanByteRanges<R>(
  records: AsyncGenerator<R, unknown, undefined>,
  endOf: (record: R) => number,
  start: number,
  cursor: Cursor,
  sizes: readonly number[],
): Promise<ScanResult> {
  const chunks: ChunkRange[] = [];
  let current: ChunkRange | undefined;
  let position = start;
  let nextRow = cursor.nextRow;
  try {
    while (chunks.length < sizes.length) {
      const next = await records.next();
      if (next.done) break;
      current ??= { from: position, to: position, firstRow: nextRow, rows: 0 };
      position = endOf(next.value);
      current.to = position;
      current.rows++;
      nextRow++;
      if (current.rows === sizes[chunks.length]) {
        chunks.push(current);
        current = undefined;
      }
    }
    if (current) chunks.push(current);
    const done = chunks.length < sizes.length || (await records.next()).done === true;
    return { chunks, cursor: { position, nextRow }, done };
  } finally {
    await records.return(undefined);
  }
}
