import { mkdtemp, rename, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChunkTaskSchema } from '../../src/core/contract.js';
import { ConfigError } from '../../src/core/errors.js';
import { FilePinSchema, START } from '../../src/core/source-refs.js';
import { CsvSource } from '../../src/sources/csv.js';
import { assertPinned, SourceFile } from '../../src/sources/source-file.js';
import { openTestFile } from '../helpers/source-file.js';
import { readChunk } from '../helpers/source-scan.js';

let dir: string;
let files = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'leadsync-source-file-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(content: string): Promise<string> {
  const path = join(dir, `source-${files++}.csv`);
  await writeFile(path, content);
  return path;
}

describe('a source file', () => {
  it('is read through the descriptor it was opened with: a file renamed over its path later is not read', async () => {
    const path = await file('EmailAddress\nfirst@x.io\n');
    const source = new CsvSource(await openTestFile(path));
    const pinned = await source.pin();
    const [chunk] = (await source.scan(START, [10])).chunks;

    const replacement = await file('EmailAddress\nother@x.io\n');
    await rename(replacement, path);

    expect(await readChunk(source, chunk!)).toEqual([{ row: 1, values: { EmailAddress: 'first@x.io' } }]);
    expect((await source.pin()).inode).toBe(pinned.inode);
  });

  it('is never opened through a symbolic link as its last name, even one to a file under the same root', async () => {
    const target = await file('EmailAddress\nlinked@x.io\n');
    const link = join(dir, 'link.csv');
    await symlink(target, link);

    const opened = openTestFile(link);

    await expect(opened).rejects.toThrow(ConfigError);
    await expect(opened).rejects.toThrow(`source file ${link} is a symbolic link: name the file itself, under a root`);
  });

  it('is pinned with its change time: rewritten in place with its size and modification time put back, it fails', async () => {
    const path = await file('EmailAddress\nbefore@x.io\n');
    // Whole seconds, so that the time put back is the same to the nanosecond.
    await utimes(path, 1_700_000_000, 1_700_000_000);
    const pinned = await (await openTestFile(path)).pin();
    // The kernel stamps change times from a clock that moves in ticks of a few milliseconds.
    await sleep(50);

    await writeFile(path, 'EmailAddress\nchange@x.io\n');
    await utimes(path, 1_700_000_000, 1_700_000_000);
    const now = await (await openTestFile(path)).pin();

    expect({ inode: now.inode, size: now.size, modifiedNs: now.modifiedNs }).toEqual({
      inode: pinned.inode,
      size: pinned.size,
      modifiedNs: pinned.modifiedNs,
    });
    expect(() => assertPinned(path, pinned, now)).toThrow(
      /changed during the sync \(rewritten in place, or its permissions or links changed \(its change time moved\)\)/,
    );
  });

  it('still takes a pin carried in a sync history from before pins had the change time', async () => {
    const path = await file('EmailAddress\nkept@x.io\n');
    const now = await (await openTestFile(path)).pin();
    const { changedNs, ...older } = now;

    expect(changedNs).toMatch(/^\d+$/);
    expect(FilePinSchema.parse(older)).toEqual(older);
    expect(
      ChunkTaskSchema.safeParse({
        syncId: 'sync',
        account: 'acme',
        lane: 'bulk',
        source: { kind: 'csv', path },
        target: {},
        share: 1,
        chunk: { from: 13, to: 23, firstRow: 1, rows: 1 },
        pin: older,
      }).success,
    ).toBe(true);
    expect(() => assertPinned(path, older, now)).not.toThrow();
    expect(() => assertPinned(path, older, { ...now, size: now.size + 1 })).toThrow(/size/);
  });

  it('is closed with its source, and reads nothing after', async () => {
    const source = new CsvSource(
      await SourceFile.open(await file('EmailAddress\nx@x.io\n'), { configPath: 'c', fileRoots: [dir], tables: {} }),
    );
    await source.close();

    await expect(source.columns()).rejects.toThrow(/closed/);
  });
});
