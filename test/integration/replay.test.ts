import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { workflowBundle } from '../helpers/sync-harness.js';

const HISTORIES = join(import.meta.dirname, '..', 'fixtures', 'histories');

/**
 * Workflows change; running syncs and governors must replay through the change. Each recorded history (see
 * scripts/record-histories.ts) is replayed against today's workflow code: a non-deterministic change fails here.
 */
describe('recorded workflow histories', async () => {
  const files = (await readdir(HISTORIES)).filter((f) => f.endsWith('.json'));

  it('are there to replay', () => {
    expect(files).toEqual(expect.arrayContaining(['lead-sync.json', 'account-governor.json']));
  });

  it.each(files)(
    '%s replays deterministically on the current workflow code',
    async (file) => {
      const history: unknown = JSON.parse(await readFile(join(HISTORIES, file), 'utf8'));

      await expect(
        Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, file),
      ).resolves.toBeUndefined();
    },
    60_000,
  );
});
