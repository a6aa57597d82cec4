import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileRejectsSink, readRejectsReport } from '../../src/rejects/files.js';
import { unattributedReject } from '../../src/rejects/types.js';

const SYNC = { syncId: 'sync-a', runId: 'run-1' };

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

describe('rejects as files', () => {
  it('reports a retried chunk once, with what its last attempt rejected, in row order', async () => {
    const sink = new FileRejectsSink(await mkdtemp(join(tmpdir(), 'leadsync-rejects-')));

    await sink.writeChunk(SYNC, 51, [{ row: 60, field: 'EmailAddress', reason: 'not an email, "quoted"' }]);
    await sink.writeChunk(SYNC, 1, [{ row: 2, reason: 'first attempt' }]);
    await sink.writeChunk(SYNC, 1, [{ row: 3, reason: 'second attempt' }]);
    const report = await sink.report(SYNC);

    expect(await readFile(report!, 'utf8')).toBe(
      'row,field,reason,source_key\n3,,second attempt,\n60,EmailAddress,"not an email, ""quoted""",\n',
    );
  });

  it("reads a run's report back as it was written, keys included, and a report written before keys were kept", async () => {
    const directory = await mkdtemp(join(tmpdir(), 'leadsync-rejects-'));
    const sink = new FileRejectsSink(directory);
    const rejects = [
      { row: 2, field: 'Phone', reason: 'taken, "by another"', key: '20' },
      { row: 5, reason: 'unreadable row' },
      unattributedReject(1, 'blocked'),
    ];
    await sink.writeChunk(SYNC, 1, rejects);
    await sink.report(SYNC);
    const older = join(directory, 'older.rejects.csv');
    await writeFile(older, 'row,field,reason\n3,EmailAddress,bad\n');

    expect(await collect(sink.read(SYNC))).toEqual(rejects);
    expect(await collect(readRejectsReport(older))).toEqual([{ row: 3, field: 'EmailAddress', reason: 'bad' }]);
  });

  it('reports rows the vendor refused without naming them as a line with an empty row', async () => {
    const sink = new FileRejectsSink(await mkdtemp(join(tmpdir(), 'leadsync-rejects-')));

    await sink.writeChunk({ ...SYNC, syncId: 'unnamed' }, 1, [
      { row: 7, reason: 'invalid email' },
      unattributedReject(3, 'blocked'),
    ]);
    const report = await sink.report({ ...SYNC, syncId: 'unnamed' });

    expect(await readFile(report!, 'utf8')).toBe(
      'row,field,reason,source_key\n7,,invalid email,\n,,"3 rows refused by the vendor, not named: blocked",\n',
    );
  });

  it('keeps the rejects of a sync that uses a closed sync id again apart by run, and names where each run has them', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'leadsync-rejects-'));
    const sink = new FileRejectsSink(directory);
    await sink.prepare();
    await sink.writeChunk(SYNC, 1, [{ row: 2, reason: 'first run' }]);
    const earlier = await sink.report(SYNC);
    const again = { ...SYNC, runId: 'run-2' };

    await sink.prepare();
    await sink.writeChunk(again, 1, [{ row: 3, reason: 'second run' }]);
    const later = await sink.report(again);

    expect(earlier).toBe(join(directory, 'sync-a.run-1.rejects.csv'));
    expect(later).toBe(join(directory, 'sync-a.run-2.rejects.csv'));
    expect(await readFile(earlier!, 'utf8')).toBe('row,field,reason,source_key\n2,,first run,\n');
    expect(await readFile(later!, 'utf8')).toBe('row,field,reason,source_key\n3,,second run,\n');
    // The earlier run's report, made again, still holds only its own rows.
    expect(await readFile((await sink.report(SYNC))!, 'utf8')).toBe('row,field,reason,source_key\n2,,first run,\n');
  });

  it('writes a sync prepared before rejects were kept by run where it wrote them then', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'leadsync-rejects-'));
    const sink = new FileRejectsSink(directory);

    await sink.writeChunk({ syncId: 'sync-a' }, 1, [{ row: 2, reason: 'prepared by an older worker' }]);

    expect(await readdir(join(directory, 'sync-a'))).toEqual(['1.ndjson']);
    expect(await sink.report({ syncId: 'sync-a' })).toBe(join(directory, 'sync-a.rejects.csv'));
  });

  it('writes a chunk only under a whole row number, never a path a forged first row makes', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'leadsync-rejects-'));
    await mkdir(join(parent, 'rejects'));
    const sink = new FileRejectsSink(join(parent, 'rejects'));

    const written = sink.writeChunk(SYNC, '../../escaped' as unknown as number, [{ row: 1, reason: 'bad' }]);

    await expect(written).rejects.toThrow(/first row "\.\.\/\.\.\/escaped" is not a row number/);
    expect(await readdir(parent)).toEqual(['rejects']);
  });
});
