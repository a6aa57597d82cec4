import type { Client } from '@temporalio/client';
import { LeadsyncState } from '../src/core/search-attributes.js';

/** How often a worker process looks whether a sync with chunks waiting for their slots was paused. */
export const PAUSE_CHECK_MS = 1_000;

/** Thrown by a chunk whose sync was paused before all its calls were sent. */
export class SyncPausedError extends Error {
  override name = 'SyncPausedError';
}

export interface PauseWatch {
  /** Aborts, with a SyncPausedError, once the sync is seen paused by a check made after watch() was called. */
  signal: AbortSignal;
  stop(): void;
}

interface Watcher {
  controller: AbortController;
  since: number;
}

/**
 * Lets chunks stop at once when their sync is paused: a chunk carries up to a window's worth of calls, and its slots
 * lie seconds ahead. The sync's own state (its LeadsyncState search attribute, which it sets in the same workflow task
 * that handles the pause) is read with DescribeWorkflowExecution, which Temporal does not count as an action; a
 * cancellation would only reach a chunk on its next recorded heartbeat (up to 0.8 x the heartbeat timeout), and each
 * of those is a billed action. One check a second per sync and worker process, however many chunks wait.
 */
export class PauseWatches {
  private readonly syncs = new Map<string, Set<Watcher>>();

  constructor(
    private readonly isPaused: (syncId: string) => Promise<boolean>,
    private readonly intervalMs = PAUSE_CHECK_MS,
  ) {}

  static forClient(client: Client): PauseWatches {
    return new PauseWatches(async (syncId) => {
      const described = await client.workflow.getHandle(syncId).describe();
      return described.typedSearchAttributes.get(LeadsyncState) === 'paused';
    });
  }

  watch(syncId: string): PauseWatch {
    const watcher: Watcher = { controller: new AbortController(), since: Date.now() };
    const polled = this.syncs.get(syncId);
    const watchers = polled ?? new Set<Watcher>();
    watchers.add(watcher);
    if (!polled) {
      this.syncs.set(syncId, watchers);
      void this.poll(syncId, watchers);
    }
    return { signal: watcher.controller.signal, stop: () => watchers.delete(watcher) };
  }

  private async poll(syncId: string, watchers: Set<Watcher>): Promise<void> {
    while (watchers.size > 0) {
      const checkedAt = Date.now();
      // A failed check is no pause: the chunk goes on as it would have without the watch.
      const paused = await this.isPaused(syncId).catch(() => false);
      if (paused) {
        for (const watcher of watchers) {
          // A pause seen by a check begun before the chunk started may be one the sync has since resumed from.
          if (watcher.since > checkedAt) continue;
          watcher.controller.abort(new SyncPausedError(`sync ${syncId} was paused`));
          watchers.delete(watcher);
        }
      }
      if (watchers.size > 0) await new Promise((resolve) => setTimeout(resolve, this.intervalMs).unref());
    }
    this.syncs.delete(syncId);
  }
}
