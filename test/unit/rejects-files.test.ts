import { mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileRejectsSink } from '../../src/rejects/files.js';
import { unattributedReject } from '../../src/rejects/types.js';

describe('rejects as files', () => {
  it('reports a retried chunk once, with what its last attempt rejected, in row order', async () => {
    const sink = new FileRejectsSink(await mkdtemp(join(tmpdir(), 'leadsync-rejects-')));

    await sink.writeChunk('sync-a', 51, [{ row: 60, field: 'EmailAddress', reason: 'not an email, "quoted"' }]);
    await sink.writeChunk('sync-a', 1, [{ row: 2, reason: 'first attempt' }]);
    await sink.writeChunk('sync-a', 1, [{ row: 3, reason: 'second attempt' }]);
    const report = await sink.report('sync-a');

    expect(await readFile(report!, 'utf8')).toBe(
      'row,field,reason\n3,,second attempt\n60,EmailAddress,"not an email, ""quoted"""\n',
    );
  });

  it('reports rows the vendor refused without naming them as a line with an empty row', async () => {
    const sink = new FileRejectsSink(await mkdtemp(join(tmpdir(), 'leadsync-rejects-')));

    await sink.writeChunk('unnamed', 1, [{ row: 7, reason: 'invalid email' }, unattributedReject(3, 'blocked')]);
    const report = await sink.report('unnamed');

    expect(await readFile(report!, 'utf8')).toBe(
      'row,field,reason\n7,,invalid email\n,,"3 rows refused by the vendor, not named: blocked"\n',
    );
  });

  it('clears what an earlier run of the same sync id left at prepare, and nothing of other syncs', async () => {
    const sink = new FileRejectsSink(await mkdtemp(join(tmpdir(), 'leadsync-rejects-')));
    await sink.prepare('again');
    await sink.writeChunk('again', 1, [{ row: 2, reason: 'first run' }]);
    await sink.writeChunk('other', 1, [{ row: 2, reason: 'other sync' }]);
    const earlierReport = await sink.report('again');

    await sink.prepare('again');

    await expect(readFile(earlierReport!)).rejects.toThrow(/ENOENT/);
    expect(await sink.report('again')).toBeUndefined();
    expect(await sink.report('other')).toBeDefined();
  });

  it('writes a chunk only under a whole row number, never a path a forged first row makes', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'leadsync-rejects-'));
    await mkdir(join(parent, 'rejects'));
    const sink = new FileRejectsSink(join(parent, 'rejects'));

    const written = sink.writeChunk('sync-a', '../../escaped' as unknown as number, [{ row: 1, reason: 'bad' }]);

    await expect(written).rejects.toThrow(/first row "\.\.\/\.\.\/escaped" is not a row number/);
    expect(await readdir(parent)).toEqual(['rejects']);
  });
});
