import { mkdir, mkdtemp, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMPILED_CLI, SOURCE_CLI, compiledTreeState } from '../../bin/compiled-tree.js';

/** Writes a file of a fake checkout, changed at `seconds` since the epoch. */
async function file(root: string, path: string, seconds: number): Promise<void> {
  await mkdir(dirname(join(root, path)), { recursive: true });
  await writeFile(join(root, path), '');
  await utimes(join(root, path), seconds, seconds);
}

describe('which tree bin/leadsync.js runs', () => {
  it('runs dist/ only once built, and only while no source changed after the build, naming the file that did', async () => {
    const root = await mkdtemp(join(tmpdir(), 'leadsync-tree-'));
    await file(root, SOURCE_CLI, 1_000);
    await file(root, 'workflows/index.ts', 1_000);
    await file(root, 'package.json', 1_000);
    expect(compiledTreeState(root)).toEqual({ compiled: false, reason: `${COMPILED_CLI} is not built` });

    await file(root, COMPILED_CLI, 2_000);
    expect(compiledTreeState(root)).toEqual({ compiled: true });

    // A workflow changed after the build, then the package's version: either makes the build stale.
    await file(root, 'workflows/index.ts', 3_000);
    expect(compiledTreeState(root)).toEqual({
      compiled: false,
      stale: true,
      reason: 'workflows/index.ts changed after the last `npm run build`',
    });
    await file(root, COMPILED_CLI, 4_000);
    await file(root, 'package.json', 5_000);
    expect(compiledTreeState(root)).toMatchObject({ compiled: false, reason: expect.stringContaining('package.json') });
  });

  it('runs dist/ where the sources are not shipped (the Docker image)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'leadsync-tree-'));
    await file(root, COMPILED_CLI, 1_000);
    await file(root, 'package.json', 2_000);
    expect(compiledTreeState(root)).toEqual({ compiled: true });
  });
});
