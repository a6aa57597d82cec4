import { describe, expect, it } from 'vitest';
import { readChunkRows, recordCheck, type RowChecks } from '../../activities/chunk-rows.js';
import { ConfigError } from '../../src/core/errors.js';
import type { ChunkRange, FilePin } from '../../src/core/source-refs.js';
import type { Source, SourceRow } from '../../src/sources/source.js';
import type { FieldProblem } from '../../src/vendors/types.js';

/** A source holding its rows in memory; pinned like a file when `pin` is given, else read like a table. */
function memorySource(columns: string[], rows: SourceRow[], pin?: FilePin): Source {
  return {
    columns: async () => columns,
    countRows: async () => rows.length,
    scan: () => Promise.reject(new Error('not scanned in these tests')),
    async *read(range: ChunkRange) {
      yield* rows.filter((row) => row.row >= range.firstRow);
    },
    ...(pin ? { pin: async () => pin } : {}),
  };
}

/** A vendor wanting an email with an @ in `Email`, and a `Company` of at most 10 characters. */
function vendor(withActivities = true): RowChecks {
  const problems = (fields: Record<string, string>): FieldProblem[] => [
    ...(fields.Email?.includes('@') ? [] : [{ field: 'Email', reason: 'not an email' }]),
    ...((fields.Company?.length ?? 0) > 10 ? [{ field: 'Company', reason: 'longer than 10' }] : []),
  ];
  return {
    name: 'leadsquared',
    emailField: 'Email',
    checkLead: problems,
    ...(withActivities
      ? { checkActivity: (fields) => (fields.Event ? [] : [{ field: 'Event', reason: 'missing' }]) }
      : {}),
  };
}

const range = (firstRow: number, rows: number): ChunkRange => ({ from: 0, to: 100, firstRow, rows });
const PIN: FilePin = { inode: '1', size: 100, modifiedNs: '1' };

describe('reading a chunk rows', () => {
  it('maps each row through the mapping, the email trimmed and lower-cased, counts every row read, and keeps its key', async () => {
    const source = memorySource(
      ['mail', 'org'],
      [
        { row: 1, values: { mail: ' Ada@Example.com ', org: 'Analytical' }, key: '41' },
        { row: 2, values: { mail: 'grace@navy.mil', org: 'Navy' }, key: '42' },
      ],
    );
    const mapping = { Email: 'mail', Company: 'org', Source: { value: 'import' } };

    const read = await readChunkRows(source, vendor(), mapping, range(1, 2), 'leads');

    expect(read).toEqual({
      leads: [
        {
          row: 1,
          email: 'ada@example.com',
          fields: { Email: 'ada@example.com', Company: 'Analytical', Source: 'import' },
        },
        { row: 2, email: 'grace@navy.mil', fields: { Email: 'grace@navy.mil', Company: 'Navy', Source: 'import' } },
      ],
      rejects: [],
      rows: 2,
      keys: new Map([
        [1, '41'],
        [2, '42'],
      ]),
      keyed: new Map(),
    });
  });

  it('keeps the key and version of each row that has them, for the row store', async () => {
    const source = memorySource(
      ['Email'],
      [
        { row: 1, values: { Email: 'ada@example.com' }, key: '7', version: '2024-01-01 00:00:00+00' },
        { row: 2, values: { Email: 'not-an-email' }, key: '8', version: '2024-01-02 00:00:00+00' },
      ],
    );

    const read = await readChunkRows(source, vendor(), undefined, range(1, 2), 'leads');

    expect(read.keyed).toEqual(
      new Map([
        [1, { key: '7', version: '2024-01-01 00:00:00+00' }],
        [2, { key: '8', version: '2024-01-02 00:00:00+00' }],
      ]),
    );
  });

  it('maps columns to the vendor fields of the same name when there is no mapping', async () => {
    const source = memorySource(['Email'], [{ row: 1, values: { Email: 'ada@example.com' } }]);

    const read = await readChunkRows(source, vendor(), undefined, range(1, 1), 'leads');

    expect(read.leads).toEqual([{ row: 1, email: 'ada@example.com', fields: { Email: 'ada@example.com' } }]);
  });

  it('rejects an unreadable row saying why, and goes on with the rest', async () => {
    const source = memorySource(
      ['Email'],
      [
        { row: 1, unreadable: 'unterminated quote' },
        { row: 2, values: { Email: 'ada@example.com' } },
      ],
    );

    const read = await readChunkRows(source, vendor(), undefined, range(1, 2), 'leads');

    expect(read.rejects).toEqual([{ row: 1, reason: 'unreadable row: unterminated quote' }]);
    expect(read.leads.map((lead) => lead.row)).toEqual([2]);
    expect(read.rows).toBe(2);
  });

  it('rejects a row failing the vendor checks with a line per bad field, and does not send it', async () => {
    const source = memorySource(
      ['Email', 'Company'],
      [{ row: 7, values: { Email: 'nobody', Company: 'Far Too Long Ltd' } }],
    );

    const read = await readChunkRows(source, vendor(), undefined, range(7, 1), 'leads');

    expect(read.leads).toEqual([]);
    expect(read.rejects).toEqual([
      { row: 7, field: 'Email', reason: 'not an email' },
      { row: 7, field: 'Company', reason: 'longer than 10' },
    ]);
  });

  it('checks activities with the vendor activity checks', async () => {
    const source = memorySource(
      ['Email', 'Event'],
      [
        { row: 1, values: { Email: 'ada@example.com', Event: 'webinar' } },
        { row: 2, values: { Email: 'ada@example.com', Event: '' } },
      ],
    );

    const read = await readChunkRows(source, vendor(), undefined, range(1, 2), 'activities');

    expect(read.leads.map((lead) => lead.row)).toEqual([1]);
    expect(read.rejects).toEqual([{ row: 2, field: 'Event', reason: 'missing' }]);
  });

  it('refuses an activities sync into a vendor without activities', () => {
    expect(() => recordCheck(vendor(false), 'activities')).toThrow(ConfigError);
  });

  it('stops a pinned file chunk that holds more rows than its scan counted', async () => {
    const rows = [1, 2, 3].map((row) => ({ row, values: { Email: `lead${row}@example.com` } }));

    const reading = readChunkRows(memorySource(['Email'], rows, PIN), vendor(), undefined, range(1, 2), 'leads');

    await expect(reading).rejects.toThrow(/holds more than the 2 rows its scan counted/);
  });

  it('reads the rows a table range gained since its scan', async () => {
    const rows = [1, 2, 3].map((row) => ({ row, values: { Email: `lead${row}@example.com` } }));

    const read = await readChunkRows(memorySource(['Email'], rows), vendor(), undefined, range(1, 2), 'leads');

    expect(read.rows).toBe(3);
  });
});
