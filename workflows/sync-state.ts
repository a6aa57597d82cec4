import {
  ZERO_COUNTS,
  type Carried,
  type ChunkResult,
  type LaneRun,
  type SyncCounts,
  type SyncProgress,
  type SyncRequest,
  type RetrySetSummary,
  type SyncResult,
  type SyncState,
} from '../src/core/contract.js';
import { expectedSeconds, lastCallSeconds, type LaneCapacity } from '../src/core/expected-finish.js';
import type { RejectsReport } from '../src/core/rejects-ref.js';
import { nextSince } from '../src/core/watermark.js';

/** Adds a chunk's result to the sync's counts. */
export function countChunk(counts: SyncCounts, result: ChunkResult): void {
  counts.read += result.rows;
  counts.accepted += result.accepted;
  counts.rejected += result.rejected;
  // Both absent before rows refused without a name were counted: a chunk result, or counts carried from such a run.
  counts.unattributed = (counts.unattributed ?? 0) + (result.unattributed ?? 0);
  // Absent alike before rows that landed in an earlier run were left out.
  counts.unchanged = (counts.unchanged ?? 0) + (result.unchanged ?? 0);
  counts.retried += result.retries;
  counts.calls += result.calls;
}

/** A run as a person watching it sees it; `sync` is absent until prepared, and `startedAt` stands in for it. */
export interface RunView {
  state: SyncState;
  request: SyncRequest;
  sync: Carried | undefined;
  startedAt: number;
  backoffUntil: number | undefined;
  /** The rate over the last minute, when measured. */
  recentRowsPerSecond?: number | undefined;
}

/**
 * The sync's progress at `now` (epoch ms): its counts, its rate since it started, a backoff still pending, and when it
 * is expected to finish as far as it knows itself (the account's other syncs are the CLI's to add: `leadsync status`).
 */
export function syncProgress(
  { state, request, sync, startedAt: runStartedAt, backoffUntil, recentRowsPerSecond }: RunView,
  now: number,
): SyncProgress {
  const counts = sync?.counts ?? ZERO_COUNTS;
  const startedAt = sync?.startedAt ?? runStartedAt;
  const elapsed = Math.max(1, now - startedAt) / 1000;
  const waiting = backoffUntil !== undefined && backoffUntil > now;
  const finishAt = state === 'running' && sync ? expectedFinishAt(request, sync, recentRowsPerSecond, now) : undefined;
  return {
    state,
    account: request.account,
    counts: { ...counts },
    share: request.share,
    priority: request.priority,
    rowsPerSecond: counts.read / elapsed,
    ...(recentRowsPerSecond !== undefined ? { recentRowsPerSecond } : {}),
    startedAt,
    asOf: now,
    run: sync?.run ?? 0,
    ...(sync
      ? {
          vendor: sync.plan.vendor,
          totalRows: sync.plan.totalRows,
          ceilingRowsPerSecond: sync.plan.rowsPerSecond * request.share,
          lanes: capacities(sync.plan.lanes),
        }
      : {}),
    ...(waiting ? { backoffUntil } : {}),
    ...(finishAt !== undefined ? { expectedFinishAt: finishAt } : {}),
  };
}

/** Alone on the account: its rows left over its plan's lanes at its share, at the pace its last minute shows. */
function expectedFinishAt(
  request: SyncRequest,
  sync: Carried,
  recentRowsPerSecond: number | undefined,
  now: number,
): number | undefined {
  const rowsLeft = Math.max(0, sync.plan.totalRows - sync.counts.read);
  const load = { id: 'self', rowsLeft, share: request.share, recentRowsPerSecond };
  const lanes = capacities(sync.plan.lanes);
  const seconds = expectedSeconds(load, lanes);
  return seconds === undefined ? undefined : now + (seconds + lastCallSeconds(lanes, request.share)) * 1000;
}

/** The plan's lanes as the governor paces them, where the plan says (else at their allowance). */
function capacities(lanes: readonly LaneRun[]): LaneCapacity[] {
  return lanes.map(({ lane, callsPerSecond, pacedCallsPerSecond, rowsPerCall }) => ({
    lane,
    callsPerSecond: pacedCallsPerSecond ?? callsPerSecond,
    rowsPerCall,
  }));
}

/** The counts, and where the rejects are: a report file's path (a string), or a table's report. */
export function syncResult(
  request: SyncRequest,
  sync: Carried,
  rejects: RejectsReport,
  cancelled: boolean,
  now: number,
  retrySet?: RetrySetSummary,
): SyncResult {
  const since = nextSince(request.source, sync.landed);
  return {
    ...sync.counts,
    totalRows: sync.plan.totalRows,
    ...(typeof rejects === 'string' ? { rejectsFile: rejects } : rejects ? { rejectsTable: rejects } : {}),
    seconds: (now - sync.startedAt) / 1000,
    cancelled,
    ...(since ? { nextSince: since } : {}),
    ...(retrySet ? { retrySet } : {}),
  };
}

/** What this run hands the next on continue-as-new: its state as is, whether paused, and the next run's number. */
export function carriedOn(sync: Carried, paused: boolean): Carried {
  return { ...sync, paused, run: sync.run + 1 };
}
