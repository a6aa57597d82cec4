import { describe, expect, it } from 'vitest';
import { PauseWatches, SYNCS_PER_READ, SyncPausedError, type PauseReader } from '../../activities/pause-watch.js';

/**
 * The paused syncs as the test sets them, read through a reader whose requests the test answers a round at a time,
 * counting those it answered. `listedPaused` answers from `listed` (the visibility store, which may lag), `isPaused`
 * from `paused`.
 */
function fakeTemporal() {
  const paused = new Set<string>();
  const listed = new Set<string>();
  /** Requests not answered yet. */
  const lists: (() => void)[] = [];
  const describes: (() => void)[] = [];
  const reads = { lists: [] as (readonly string[])[], describes: [] as string[] };
  const reader: PauseReader = {
    listedPaused: (ids) =>
      new Promise((resolve) => {
        lists.push(() => {
          reads.lists.push(ids);
          resolve(ids.filter((id) => listed.has(id)));
        });
      }),
    isPaused: (id) =>
      new Promise((resolve) => {
        describes.push(() => {
          reads.describes.push(id);
          resolve(paused.has(id));
        });
      }),
  };
  const settle = () => new Promise((resolve) => setTimeout(resolve, 5));
  const waitFor = async <T>(queue: T[]) => {
    while (queue.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  };
  return {
    reader,
    reads,
    lists,
    describes,
    /** Answers the next visibility read, and the describes it leads to. */
    async answerRound() {
      await waitFor(lists);
      while (lists.length > 0) lists.shift()!();
      await settle();
      while (describes.length > 0) describes.shift()!();
      await settle();
    },
    pause(id: string) {
      paused.add(id);
      listed.add(id);
    },
    resume(id: string) {
      paused.delete(id);
    },
  };
}

describe('pause watch', () => {
  it('reads once per interval for every sync the process watches, not once per sync', async () => {
    const temporal = fakeTemporal();
    const watches = new PauseWatches(temporal.reader, 1);
    const syncs = ['sync-1', 'sync-2', 'sync-3', 'sync-4', 'sync-5'];
    const chunks = syncs.flatMap((id) => [watches.watch(id), watches.watch(id)]);
    // The first read starts with the first chunk, before the others start.
    await temporal.answerRound();

    for (let round = 0; round < 3; round++) await temporal.answerRound();

    const [first, ...rounds] = temporal.reads.lists;
    expect(first).toEqual(['sync-1']);
    expect(rounds.map((ids) => [...ids].sort())).toEqual([syncs, syncs, syncs]);
    expect(temporal.reads.describes).toEqual([]);
    for (const chunk of chunks) chunk.stop();
  });

  it('names at most SYNCS_PER_READ syncs a read', async () => {
    const temporal = fakeTemporal();
    const watches = new PauseWatches(temporal.reader, 1);
    const chunks = Array.from({ length: 2 * SYNCS_PER_READ + 1 }, (_, i) => watches.watch(`sync-${i}`));
    await temporal.answerRound();

    await temporal.answerRound();

    expect(temporal.reads.lists.slice(1).map((ids) => ids.length)).toEqual([SYNCS_PER_READ, SYNCS_PER_READ, 1]);
    for (const chunk of chunks) chunk.stop();
  });

  it("stops every chunk of a paused sync, by the sync's own state, and no other sync's", async () => {
    const temporal = fakeTemporal();
    const watches = new PauseWatches(temporal.reader, 1);
    const paused = [watches.watch('sync-1'), watches.watch('sync-1'), watches.watch('sync-1')];
    const running = watches.watch('sync-2');
    await temporal.answerRound();
    expect(paused.some((c) => c.signal.aborted)).toBe(false);

    temporal.pause('sync-1');
    await temporal.answerRound();

    expect(paused.every((c) => c.signal.reason instanceof SyncPausedError)).toBe(true);
    expect(running.signal.aborted).toBe(false);
    expect(temporal.reads.describes).toEqual(['sync-1']);
    running.stop();
  });

  it('does not stop a chunk of a sync the visibility store still lists as paused after it resumed', async () => {
    const temporal = fakeTemporal();
    const watches = new PauseWatches(temporal.reader, 1);
    temporal.pause('sync-1');
    temporal.resume('sync-1');
    const chunk = watches.watch('sync-1');

    await temporal.answerRound();

    expect(temporal.reads.describes).toEqual(['sync-1']);
    expect(chunk.signal.aborted).toBe(false);
    chunk.stop();
  });

  it('does not stop a chunk that started after the check saw the pause: the sync may have resumed since', async () => {
    const temporal = fakeTemporal();
    const watches = new PauseWatches(temporal.reader, 1);
    const early = watches.watch('sync-1');
    temporal.pause('sync-1');
    await new Promise((resolve) => setTimeout(resolve, 2));
    temporal.lists.shift()!();
    while (temporal.describes.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    await new Promise((resolve) => setTimeout(resolve, 2));
    const late = watches.watch('sync-1');

    temporal.describes.shift()!();
    await new Promise((resolve) => setTimeout(resolve, 5));

    expect(early.signal.aborted).toBe(true);
    expect(late.signal.aborted).toBe(false);
    late.stop();
  });

  it('stops reading once no chunk waits', async () => {
    const temporal = fakeTemporal();
    const watches = new PauseWatches(temporal.reader, 1);
    const chunk = watches.watch('sync-1');
    chunk.stop();

    await temporal.answerRound();
    await new Promise((resolve) => setTimeout(resolve, 20));

    expect(temporal.reads.lists).toHaveLength(1);
    expect(temporal.lists).toHaveLength(0);
  });

  it('describes, each time, a sync whose id a visibility query cannot name', async () => {
    const temporal = fakeTemporal();
    const watches = new PauseWatches(temporal.reader, 1);
    const plain = watches.watch('acme-daily');
    const odd = watches.watch('acme\\"weekly');
    await temporal.answerRound();

    temporal.pause('acme\\"weekly');
    await temporal.answerRound();

    expect(temporal.reads.lists).toEqual([['acme-daily'], ['acme-daily']]);
    expect(odd.signal.reason).toBeInstanceOf(SyncPausedError);
    plain.stop();
  });
});
