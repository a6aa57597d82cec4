import { appendFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FirstRowIndex } from '../../src/rejects/first-rows.js';
import { syncRejectsDirectory } from '../../src/rejects/files.js';
import type { VendorRecord } from '../../src/vendors/types.js';

const lead = (row: number, email: string): VendorRecord => ({ row, email, fields: { EmailAddress: email } });
const SYNC = { syncId: 'sync', runId: 'run-1' };

describe('the first row of each lead in a sync', () => {
  it('rejects later rows of an email as duplicates of the first, whichever chunk is pushed first', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'leadsync-first-rows-'));
    const scanner = new FirstRowIndex(directory);
    // Scans record chunks in row order; a retried scan records its chunk again.
    await scanner.record(SYNC, [lead(1, 'a@x.io'), lead(2, 'b@x.io')]);
    await scanner.record(SYNC, [lead(3, 'a@x.io'), lead(4, 'c@x.io'), lead(5, 'c@x.io')]);
    await scanner.record(SYNC, [lead(3, 'a@x.io'), lead(4, 'c@x.io'), lead(5, 'c@x.io')]);

    // Another worker, sharing the rejects directory, pushes the later chunk before the earlier one.
    const pusher = new FirstRowIndex(directory);
    const later = await pusher.separate(
      SYNC,
      [lead(3, 'a@x.io'), lead(4, 'c@x.io'), lead(5, 'c@x.io')],
      'EmailAddress',
    );
    const earlier = await pusher.separate(SYNC, [lead(1, 'a@x.io'), lead(2, 'b@x.io')], 'EmailAddress');

    expect(later.leads.map((l) => l.row)).toEqual([4]);
    expect(later.duplicates).toEqual([
      { row: 3, field: 'EmailAddress', reason: 'duplicate of row 1: only the first row of a lead is sent in one sync' },
      { row: 5, field: 'EmailAddress', reason: 'duplicate of row 4: only the first row of a lead is sent in one sync' },
    ]);
    expect(earlier).toEqual({ leads: [lead(1, 'a@x.io'), lead(2, 'b@x.io')], duplicates: [] });
    // Another sync has its own leads.
    expect(
      (await pusher.separate({ ...SYNC, syncId: 'other' }, [lead(3, 'a@x.io')], 'EmailAddress')).duplicates,
    ).toEqual([]);
  });

  it('reads past a line torn by a worker killed mid-write', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'leadsync-first-rows-'));
    const index = new FirstRowIndex(directory);
    await index.record(SYNC, [lead(1, 'a@x.io')]);
    const log = join(syncRejectsDirectory(directory, SYNC), 'first-rows.log');
    await appendFile(log, '7\tpartial@x');
    await index.record(SYNC, [lead(2, 'b@x.io'), lead(9, 'b@x.io')]);

    expect((await readFile(log, 'utf8')).split('\n')).toContain('2\tb@x.io\t');
    expect((await index.separate(SYNC, [lead(9, 'b@x.io'), lead(8, 'partial@x')], 'EmailAddress')).duplicates).toEqual([
      expect.objectContaining({ row: 9, reason: expect.stringMatching(/^duplicate of row 2:/) }),
    ]);
  });

  it('keeps the first rows of a sync that uses a closed sync id again apart, and the earlier run its own', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'leadsync-first-rows-'));
    const index = new FirstRowIndex(directory);
    await index.record(SYNC, [lead(1, 'a@x.io')]);
    const again = { ...SYNC, runId: 'run-2' };

    await index.record(again, [lead(5, 'b@x.io')]);

    expect((await index.separate(again, [lead(9, 'a@x.io'), lead(7, 'b@x.io')], 'EmailAddress')).duplicates).toEqual([
      expect.objectContaining({ row: 7, reason: expect.stringMatching(/^duplicate of row 5:/) }),
    ]);
    expect((await index.separate(SYNC, [lead(9, 'a@x.io'), lead(7, 'b@x.io')], 'EmailAddress')).duplicates).toEqual([
      expect.objectContaining({ row: 9, reason: expect.stringMatching(/^duplicate of row 1:/) }),
    ]);
  });

  it('reads what other workers appended once however many chunks ask at the same time, and never from mid-line', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'leadsync-first-rows-'));
    const scanner = new FirstRowIndex(directory);
    const pusher = new FirstRowIndex(directory);
    const rows = (from: number, to: number) =>
      Array.from({ length: to - from + 1 }, (_, i) => lead(from + i, `lead-${from + i}@x.io`));
    await scanner.record(SYNC, rows(1, 100));
    await pusher.separate(SYNC, rows(1, 1), 'EmailAddress');

    // Two chunks of the pusher's worker read the scanner's next page at the same time.
    await scanner.record(SYNC, rows(101, 200));
    await Promise.all([
      pusher.separate(SYNC, rows(101, 101), 'EmailAddress'),
      pusher.separate(SYNC, rows(102, 102), 'EmailAddress'),
    ]);
    await scanner.record(SYNC, rows(201, 300));
    const later = await pusher.separate(
      SYNC,
      [...rows(197, 197), lead(350, 'lead-210@x.io'), lead(351, 'lead-97@x.io')],
      'EmailAddress',
    );

    expect(later.leads.map((l) => l.row)).toEqual([197]);
    expect(later.duplicates.map((d) => [d.row, d.reason.split(':')[0]])).toEqual([
      [350, 'duplicate of row 210'],
      [351, 'duplicate of row 97'],
    ]);
  });

  it('reads a log of several megabytes whole, with lines cut between its reads', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'leadsync-first-rows-'));
    const scanner = new FirstRowIndex(directory);
    const rows = Array.from({ length: 60_000 }, (_, i) => lead(i + 1, `lead-${i + 1}-${'x'.repeat(i % 50)}@x.io`));
    for (let i = 0; i < rows.length; i += 5_000) await scanner.record(SYNC, rows.slice(i, i + 5_000));

    const pusher = new FirstRowIndex(directory);
    const again = rows.map((r) => lead(r.row + 60_000, r.email));
    const { leads, duplicates } = await pusher.separate(SYNC, [...rows, ...again], 'EmailAddress');

    expect(leads).toHaveLength(60_000);
    expect(duplicates).toHaveLength(60_000);
    expect(duplicates.every((d) => d.reason.startsWith(`duplicate of row ${d.row! - 60_000}:`))).toBe(true);
  });

  it('keeps the first rows of the 8 syncs used last in memory, and reads an older one back from its log', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'leadsync-first-rows-'));
    const index = new FirstRowIndex(directory);
    const firstOf = async (owner: typeof SYNC) =>
      (await index.separate(owner, [lead(5, 'a@x.io')], 'EmailAddress')).duplicates[0]?.reason.split(':')[0];
    await index.record(SYNC, [lead(1, 'a@x.io')]);
    expect(await firstOf(SYNC)).toBe('duplicate of row 1');
    // The log changes under the index without growing: only an index that reads it anew sees the change.
    await writeFile(join(syncRejectsDirectory(directory, SYNC), 'first-rows.log'), '\n2\ta@x.io\t\n');

    for (let other = 1; other <= 7; other++)
      await index.record({ ...SYNC, syncId: `other-${other}` }, [lead(1, 'c@x.io')]);
    expect(await firstOf(SYNC)).toBe('duplicate of row 1');
    for (let other = 1; other <= 8; other++)
      await index.record({ ...SYNC, syncId: `other-${other}` }, [lead(1, 'c@x.io')]);
    expect(await firstOf(SYNC)).toBe('duplicate of row 2');
  });
});
