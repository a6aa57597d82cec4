import { describe, expect, it } from 'vitest';
import { START, type ChunkRange, type Cursor, type FilePin } from '../../src/core/source-refs.js';
import { distinctRows } from '../../src/rejects/rejected-rows.js';
import { reportRunId } from '../../src/rejects/files.js';
import { RejectedSource } from '../../src/sources/rejected.js';
import type { RejectedRow, RejectedRows } from '../../src/sources/source-kind.js';
import type { ScanResult, Source, SourceRow } from '../../src/sources/source.js';

const PIN: FilePin = { inode: '1', size: 100, modifiedNs: '1' };

/** A file of `rows` rows, cut like one: positions are the row numbers where a chunk ends (exclusive). */
function fileOf(rows: number): Source {
  return {
    columns: async () => ['email'],
    countRows: async () => rows,
    pin: async () => PIN,
    async scan(cursor: Cursor, sizes: readonly number[]): Promise<ScanResult> {
      let at = typeof cursor.position === 'number' ? cursor.position : 0;
      let nextRow = cursor.nextRow;
      const chunks: ChunkRange[] = [];
      for (const size of sizes) {
        const taken = Math.min(size, rows - at);
        if (taken <= 0) break;
        chunks.push({ from: at, to: at + taken, firstRow: nextRow, rows: taken });
        at += taken;
        nextRow += taken;
      }
      return { chunks, cursor: { position: at, nextRow }, done: at >= rows };
    },
    async *read(range: ChunkRange): AsyncIterable<SourceRow> {
      for (let i = Number(range.from); i < Number(range.to); i++) {
        yield { row: range.firstRow + i - Number(range.from), values: { email: `row-${i + 1}@example.com` } };
      }
    },
  };
}

/** A table whose rows are found by key; `gone` are keys no row has any more. */
function tableWith(gone: string[]): Source {
  return {
    ...fileOf(0),
    pin: undefined,
    async *readKeys(keys: readonly string[], firstRow: number): AsyncIterable<SourceRow> {
      for (const [i, key] of keys.entries()) {
        if (!gone.includes(key)) yield { row: firstRow + i, key, values: { email: `key-${key}@example.com` } };
      }
    },
  } as Source;
}

function rejectedOf(rows: RejectedRow[]): RejectedRows {
  return {
    after: async (after, limit) => rows.filter((r) => r.row > after).slice(0, limit),
    count: async () => rows.length,
    close: async () => {},
  };
}

const REF = {
  kind: 'rejected',
  of: { syncId: 'sync-a', runId: 'run-1' },
  source: { kind: 'csv', path: '/data/leads.csv' },
} as const;

async function all(source: Source, sizes: number[]): Promise<{ chunks: ChunkRange[]; rows: SourceRow[] }> {
  const chunks: ChunkRange[] = [];
  let cursor = START;
  for (;;) {
    const scan = await source.scan(cursor, sizes);
    chunks.push(...scan.chunks);
    cursor = scan.cursor;
    if (scan.done) break;
  }
  const rows: SourceRow[] = [];
  for (const chunk of chunks) for await (const row of source.read(chunk)) rows.push(row);
  return { chunks, rows };
}

describe('the rejected rows of a sync, as a source', () => {
  it("reads only a file's rejected rows, by their numbers, in chunks numbered for the retry", async () => {
    const source = new RejectedSource(REF, fileOf(100), rejectedOf([{ row: 3 }, { row: 4 }, { row: 40 }, { row: 99 }]));

    const { chunks, rows } = await all(source, [2]);

    expect(chunks.map(({ firstRow, rows: count }) => [firstRow, count])).toEqual([
      [1, 2],
      [3, 2],
    ]);
    expect(rows).toEqual([3, 4, 40, 99].map((row) => ({ row, values: { email: `row-${row}@example.com` } })));
    expect(await source.countRows()).toBe(4);
    expect(source.pin).toBeDefined();
  });

  it('fails naming the row when the file ends before a rejected row: it is not the file the sync read', async () => {
    const source = new RejectedSource(REF, fileOf(10), rejectedOf([{ row: 12 }]));

    await expect(source.scan(START, [5])).rejects.toThrow(/ends before row 12, which the sync rejected/);
  });

  it("reads a table's rejected rows by their keys, keeping their numbers, and says which left the table", async () => {
    const ref = { ...REF, source: { kind: 'postgres', connection: 'main', table: 'leads', key: 'id' } } as const;
    const source = new RejectedSource(
      ref,
      tableWith(['150']),
      rejectedOf([{ row: 3, key: '130' }, { row: 5, key: '150' }, { row: 9 }]),
    );

    const { rows } = await all(source, [10]);

    expect(rows).toEqual([
      { row: 3, values: { email: 'key-130@example.com' }, key: '130' },
      { row: 5, unreadable: 'the row with key 150 is no longer in the table' },
      { row: 9, unreadable: expect.stringContaining('kept no source key') },
    ]);
    expect(source.pin).toBeUndefined();
  });
});

describe("a run's rejects, as rows", () => {
  it('names each row once, with its key, and leaves out the rows the vendor did not name', async () => {
    async function* rejects() {
      yield { row: 2, field: 'EmailAddress', reason: 'bad', key: '20' };
      yield { row: 2, field: 'FirstName', reason: 'too long', key: '20' };
      yield { reason: '3 rows refused by the vendor, not named: blocked' };
      yield { row: 7, reason: 'unreadable' };
    }
    const rows: RejectedRow[] = [];
    for await (const row of distinctRows(rejects())) rows.push(row);

    expect(rows).toEqual([{ row: 2, key: '20' }, { row: 7 }]);
  });

  it("takes a file report's run from its name, and none from a report of a sync before runs", () => {
    expect(reportRunId('/r/leadsync-sync-acme-1a2b.0d1e-2f3a-4b5c.rejects.csv')).toBe('0d1e-2f3a-4b5c');
    expect(reportRunId('/r/leadsync-sync-acme-1a2b.rejects.csv')).toBeUndefined();
  });
});
