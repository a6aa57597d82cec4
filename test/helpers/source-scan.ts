import { expect } from 'vitest';
import { START, type ChunkRange, type Cursor } from '../../src/core/source-refs.js';
import type { Source, SourceRow } from '../../src/sources/source.js';

/** Every row of one chunk, as pushChunk reads it. */
export async function readChunk(source: Source, range: ChunkRange): Promise<SourceRow[]> {
  const rows: SourceRow[] = [];
  for await (const row of source.read(range)) rows.push(row);
  return rows;
}

/** Scans to the end in chunks of the given sizes, reading every chunk as a worker would. */
export async function scanToEnd(source: Source, sizes: number[], from: Cursor = START) {
  const chunks: ChunkRange[] = [];
  const rows: SourceRow[] = [];
  let cursor = from;
  for (let scans = 0; ; scans++) {
    if (scans > 1000) throw new Error('scan never finished');
    const result = await source.scan(cursor, sizes);
    for (const chunk of result.chunks) {
      const read = await readChunk(source, chunk);
      expect(read).toHaveLength(chunk.rows);
      chunks.push(chunk);
      rows.push(...read);
    }
    cursor = result.cursor;
    if (result.done) return { chunks, rows, cursor };
  }
}
