import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { eventually } from '../helpers/run-cli.js';
import { leadSquaredAccount, spawnCliWorker, stopChild, type LeadSquaredSetup } from '../helpers/sync-harness.js';

describe('a `leadsync worker` whose heap is capped', () => {
  let setup: LeadSquaredSetup;
  let child: ChildProcess | undefined;
  const lines: Record<string, unknown>[] = [];
  beforeAll(async () => {
    setup = await leadSquaredAccount({ plan: 'enterprise' });
    child = spawnCliWorker(setup, { NODE_OPTIONS: '--max-old-space-size=96' });
    let partial = '';
    child.stderr!.on('data', (data: Buffer) => {
      const text = partial + data.toString('utf8');
      const complete = text.split('\n');
      partial = complete.pop()!;
      for (const line of complete) if (line.startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>);
    });
  });
  afterAll(async () => {
    if (child) await stopChild(child);
    await setup?.simulator.stop();
  });

  it("says its heap's limit, and still caches its account's governor and sync", async () => {
    const memory = await eventually(
      async () => lines.find((line) => line.msg === 'memory'),
      (line) => line !== undefined,
      { timeoutMs: 120_000 },
    );

    expect(memory!.heapLimitMb).toBeLessThan(200);
    // The SDK would have kept 10 workflows under this heap.
    expect(memory!.maxCachedWorkflows).toBe(22);
  });
});
