import type { Client } from '@temporalio/client';
import { LeadsyncState } from '../src/core/search-attributes.js';

/** How often a worker process looks whether a sync with chunks waiting for their slots was paused. */
export const PAUSE_CHECK_MS = 1_000;

/**
 * Syncs one visibility read names. A read of more would still be one request (the dev server answers one of 5,000
 * ids, 200 KB of query, in about 0.1 s), but the servers' limits on a query's size are not documented; a process
 * holds up to `worker.maxConcurrentChunks` chunks a queue (1,000 by default), so most processes read once.
 */
export const SYNCS_PER_READ = 1_000;

/** Thrown by a chunk whose sync was paused before all its calls were sent. */
export class SyncPausedError extends Error {
  override name = 'SyncPausedError';
}

export interface PauseWatch {
  /** Aborts, with a SyncPausedError, once the sync is seen paused by a check made after watch() was called. */
  signal: AbortSignal;
  stop(): void;
}

/** Where a worker process learns which syncs are paused. */
export interface PauseReader {
  /** Which of these syncs (up to SYNCS_PER_READ) the visibility store lists as paused: one request. */
  listedPaused(syncIds: readonly string[]): Promise<Iterable<string>>;
  /** Whether the sync is paused now, by its own state: one request. */
  isPaused(syncId: string): Promise<boolean>;
}

interface Watcher {
  controller: AbortController;
  since: number;
}

/**
 * Lets chunks stop at once when their sync is paused: a chunk carries up to a window's worth of calls, and its slots
 * lie seconds ahead. A cancellation would only reach a chunk on its next recorded heartbeat (up to 0.8 x the
 * heartbeat timeout), and each of those is a billed action; so the process looks for itself, once a second.
 *
 * One look a second for the whole process, however many syncs it holds chunks of: one ListWorkflowExecutions naming
 * them all (`LeadsyncState = 'paused'`, which the sync sets in the same workflow task that handles the pause). A
 * DescribeWorkflowExecution per sync, as before, was thousands of requests a second against a namespace's 2,000 when
 * thousands of syncs ran. The account governor's answers cannot carry the pause instead: a chunk reserves all its
 * slots at once, seconds before the last of them, and hears nothing from the governor while it waits. Asking the
 * governor again would be a query a second per account, each answered by a workflow worker, and the sync would have
 * to tell its governor of the pause (a change to its commands).
 *
 * Visibility is written after the workflow task, not in it: on the dev server (SQLite) some 10-40 ms later, so a
 * pause still stops calls within about a second. Temporal documents lists as possibly a few seconds stale (Cloud,
 * Elasticsearch), and a pause is seen that much later there. Stale the other way, a sync resumed but still listed as
 * paused would have its chunks stopped for nothing, their calls already sent made again on the next try: so a sync
 * the list names is described, and its chunks stop by its own state. That costs a request when a pause is seen, not
 * a request a second.
 */
export class PauseWatches {
  private readonly syncs = new Map<string, Set<Watcher>>();
  private polling = false;

  constructor(
    private readonly reader: PauseReader,
    private readonly intervalMs = PAUSE_CHECK_MS,
  ) {}

  static forClient(client: Client): PauseWatches {
    return new PauseWatches({
      async listedPaused(syncIds) {
        const listed: string[] = [];
        const query = `LeadsyncState = 'paused' AND ExecutionStatus = 'Running' AND WorkflowId IN (${syncIds.map(quoted).join(', ')})`;
        for await (const execution of client.workflow.list({ query, pageSize: SYNCS_PER_READ })) {
          listed.push(execution.workflowId);
        }
        return listed;
      },
      async isPaused(syncId) {
        const described = await client.workflow.getHandle(syncId).describe();
        return described.typedSearchAttributes.get(LeadsyncState) === 'paused';
      },
    });
  }

  watch(syncId: string): PauseWatch {
    const watcher: Watcher = { controller: new AbortController(), since: Date.now() };
    const watchers = this.syncs.get(syncId) ?? new Set<Watcher>();
    watchers.add(watcher);
    this.syncs.set(syncId, watchers);
    if (!this.polling) {
      this.polling = true;
      void this.poll();
    }
    return { signal: watcher.controller.signal, stop: () => this.forget(syncId, watcher) };
  }

  private forget(syncId: string, watcher: Watcher): void {
    const watchers = this.syncs.get(syncId);
    if (watchers?.delete(watcher) && watchers.size === 0) this.syncs.delete(syncId);
  }

  private async poll(): Promise<void> {
    while (this.syncs.size > 0) {
      const ids = [...this.syncs.keys()];
      // A visibility query does not match an id with a backslash or a double quote (the dev server finds none, however
      // escaped): such a sync is described each time.
      const named = ids.filter(nameable);
      const reads: Promise<Iterable<string>>[] = [];
      for (let i = 0; i < named.length; i += SYNCS_PER_READ) {
        // A failed read is no pause: the chunks go on as they would have without the watch.
        reads.push(this.reader.listedPaused(named.slice(i, i + SYNCS_PER_READ)).catch(() => []));
      }
      const listed = (await Promise.all(reads)).flatMap((found) => [...found]);
      const toDescribe = new Set([...listed, ...ids.filter((id) => !nameable(id))]);
      await Promise.all([...toDescribe].map((syncId) => this.stopIfPaused(syncId)));
      if (this.syncs.size > 0) await new Promise((resolve) => setTimeout(resolve, this.intervalMs).unref());
    }
    this.polling = false;
  }

  private async stopIfPaused(syncId: string): Promise<void> {
    // Only a sync watched here: a list reads what its query says, and a query names what a workflow's state says.
    if (!this.syncs.has(syncId)) return;
    const checkedAt = Date.now();
    if (!(await this.reader.isPaused(syncId).catch(() => false))) return;
    const watchers = this.syncs.get(syncId) ?? new Set<Watcher>();
    for (const watcher of watchers) {
      // A pause seen by a check begun before the chunk started may be one the sync has since resumed from.
      if (watcher.since > checkedAt) continue;
      watcher.controller.abort(new SyncPausedError(`sync ${syncId} was paused`));
      this.forget(syncId, watcher);
    }
  }
}

/** Whether a visibility query can name the workflow id (see poll). */
function nameable(syncId: string): boolean {
  return !/[\\"]/.test(syncId);
}

/** The id as a string literal of a visibility query. */
function quoted(syncId: string): string {
  return `'${syncId.replaceAll("'", "''")}'`;
}
