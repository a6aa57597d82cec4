// A source kind that exists only in tests: both halves in one file, registered by one line in a test's list.
import { z } from 'zod';
import type { ChunkRange, Cursor } from '../../src/core/source-refs.js';
import type { SourceKind } from '../../src/sources/source-kind.js';
import type { ScanResult, Source, SourceRow } from '../../src/sources/source.js';

const FakeSourceSchema = z
  .object({
    kind: z.literal('counter'),
    /** Rows 1..rows, each with an `email` of its number; positions are row numbers. */
    rows: z.number().int().nonnegative(),
    /** Incremental: only rows after this one. */
    since: z.object({ value: z.number(), key: z.number() }).strict().optional(),
  })
  .strict();
type FakeSourceRef = z.infer<typeof FakeSourceSchema>;

/** Generated rows, cut into ranges of row numbers (both inclusive). */
class CounterSource implements Source {
  constructor(private readonly ref: FakeSourceRef) {}

  private get first(): number {
    return (this.ref.since?.key ?? 0) + 1;
  }

  columns(): Promise<string[]> {
    return Promise.resolve(['email']);
  }

  countRows(): Promise<number> {
    return Promise.resolve(Math.max(0, this.ref.rows - this.first + 1));
  }

  scan(cursor: Cursor, sizes: readonly number[]): Promise<ScanResult> {
    let at = typeof cursor.position === 'number' ? cursor.position + 1 : this.first;
    let nextRow = cursor.nextRow;
    const chunks: ChunkRange[] = [];
    for (const size of sizes) {
      const rows = Math.min(size, this.ref.rows - at + 1);
      if (rows <= 0) break;
      chunks.push({ from: at, to: at + rows - 1, firstRow: nextRow, rows });
      at += rows;
      nextRow += rows;
    }
    return Promise.resolve({ chunks, cursor: { position: at - 1, nextRow }, done: at > this.ref.rows });
  }

  async *read(range: ChunkRange): AsyncIterable<SourceRow> {
    for (let n = Number(range.from); n <= Number(range.to); n++) {
      yield await Promise.resolve({
        row: range.firstRow + n - Number(range.from),
        values: { email: `${n}@example.com` },
      });
    }
  }
}

export const fakeSourceKind = {
  kind: 'counter',
  schema: FakeSourceSchema,
  describe: (ref) => ({
    address: `counter:${ref.rows}`,
    label: `${ref.rows} counted rows`,
    name: `counter-${ref.rows}`,
  }),
  increments: {
    sinceAfter: (ref, landed) => (landed === null ? ref.since : { value: Number(landed), key: Number(landed) }),
    resumeFrom: (ref, since) => ({ ...ref, since: { value: Number(since.value), key: Number(since.key) } }),
  },
  open: (ref) => Promise.resolve(new CounterSource(ref)),
} satisfies SourceKind<FakeSourceRef>;
