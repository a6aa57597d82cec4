import { describe, expect, it } from 'vitest';
import type { SourceRef } from '../../src/core/source-registry.js';
import type { ChunkRange } from '../../src/core/source-refs.js';
import { markLanded, nextSince, startWatermark } from '../../src/core/watermark.js';

const chunk = (firstRow: number, rows: number, to: string | number): ChunkRange => ({ from: 0, to, firstRow, rows });

describe('the mark of rows landed', () => {
  it('moves over a chunk that lands in order', () => {
    const mark = startWatermark();

    markLanded(mark, chunk(1, 10, 100));

    expect(mark).toEqual({ nextRow: 11, position: 100, ahead: [] });
  });

  it('waits at a gap: a chunk landing ahead of one in flight does not move it', () => {
    const mark = startWatermark();

    markLanded(mark, chunk(11, 10, 200));

    expect(mark.nextRow).toBe(1);
    expect(mark.position).toBeNull();
    expect(mark.ahead).toEqual([chunk(11, 10, 200)]);
  });

  it('moves over every chunk made contiguous once the gap closes, whatever order they landed in', () => {
    const mark = startWatermark();

    markLanded(mark, chunk(21, 5, 300));
    markLanded(mark, chunk(11, 10, 200));
    markLanded(mark, chunk(1, 10, 100));

    expect(mark).toEqual({ nextRow: 26, position: 300, ahead: [] });
  });

  it('keeps chunks past a second gap waiting', () => {
    const mark = startWatermark();

    markLanded(mark, chunk(31, 5, 400));
    markLanded(mark, chunk(1, 10, 100));

    expect(mark).toEqual({ nextRow: 11, position: 100, ahead: [chunk(31, 5, 400)] });
  });
});

describe('where the next incremental sync starts', () => {
  const incremental: SourceRef = {
    kind: 'postgres',
    connection: 'crm',
    table: 'leads',
    key: 'id',
    cursorColumn: 'updated_at',
    since: { value: '2026-01-01', key: '5' },
  };

  it('starts after the last row that landed, from its [cursor value, key] pair', () => {
    const mark = { nextRow: 11, position: '["2026-03-01 10:00:00","42"]', ahead: [] };

    expect(nextSince(incremental, mark)).toEqual({ value: '2026-03-01 10:00:00', key: '42' });
  });

  it('starts where this sync started when no row landed', () => {
    expect(nextSince(incremental, startWatermark())).toEqual({ value: '2026-01-01', key: '5' });
  });

  it('has none for a source that is not incremental', () => {
    const mark = { nextRow: 11, position: 10, ahead: [] };

    expect(nextSince({ kind: 'csv', path: 'leads.csv' }, mark)).toBeUndefined();
    expect(nextSince({ kind: 'postgres', connection: 'crm', table: 'leads', key: 'id' }, mark)).toBeUndefined();
  });

  it('refuses a position that is not a pair, rather than guess a since', () => {
    expect(() => nextSince(incremental, { nextRow: 11, position: 10, ahead: [] })).toThrow(
      /not a \[cursor value, key\] pair/,
    );
  });
});
