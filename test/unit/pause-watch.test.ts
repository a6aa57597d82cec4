import { describe, expect, it } from 'vitest';
import { PauseWatches, SyncPausedError } from '../../activities/pause-watch.js';

/** A sync whose paused state the test sets, and whose checks the test answers one at a time. */
function fakeSync() {
  let paused = false;
  const checks: (() => void)[] = [];
  const isPaused = () => new Promise<boolean>((resolve) => checks.push(() => resolve(paused)));
  const answerNext = async () => {
    while (checks.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    checks.shift()!();
    await new Promise((resolve) => setTimeout(resolve, 5));
  };
  return { isPaused, answerNext, pause: () => (paused = true), checks };
}

describe('pause watch', () => {
  it('stops every chunk of a paused sync with one check for all of them', async () => {
    const sync = fakeSync();
    const watches = new PauseWatches(sync.isPaused, 1);
    const chunks = [watches.watch('sync-1'), watches.watch('sync-1'), watches.watch('sync-1')];
    await sync.answerNext();
    expect(chunks.some((c) => c.signal.aborted)).toBe(false);

    sync.pause();
    await sync.answerNext();

    expect(chunks.every((c) => c.signal.reason instanceof SyncPausedError)).toBe(true);
    expect(sync.checks).toHaveLength(0);
  });

  it('does not stop a chunk that started after the check saw the pause: the sync may have resumed since', async () => {
    const sync = fakeSync();
    const watches = new PauseWatches(sync.isPaused, 1);
    const early = watches.watch('sync-1');
    sync.pause();
    await new Promise((resolve) => setTimeout(resolve, 2));
    const late = watches.watch('sync-1');

    await sync.answerNext();

    expect(early.signal.aborted).toBe(true);
    expect(late.signal.aborted).toBe(false);
    late.stop();
  });

  it('stops checking once no chunk of the sync waits', async () => {
    const sync = fakeSync();
    const watches = new PauseWatches(sync.isPaused, 1);
    const chunk = watches.watch('sync-1');
    chunk.stop();

    await sync.answerNext();
    await new Promise((resolve) => setTimeout(resolve, 20));

    expect(sync.checks).toHaveLength(0);
  });
});
