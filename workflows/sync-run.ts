import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  isCancellation,
  sleep,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityInterfaceFor,
} from '@temporalio/workflow';
import type { SyncActivities } from '../activities/index.js';
import type { LaneName } from '../src/core/plans.js';
import type { ChunkRange } from '../src/core/source-refs.js';
import {
  ShareSchema,
  StoppedChunkSchema,
  type Carried,
  type RejectsReportRequest,
  type RetrySetSummary,
  type ChunkResult,
  type LaneRun,
  type PendingChunk,
  type SyncProgress,
  type SyncRequest,
  type SyncResult,
  type SyncState,
} from '../src/core/contract.js';
import { FailureType } from '../src/core/failures.js';
import {
  backoffSignal,
  pauseUpdate,
  progressQuery,
  readBackoff,
  resumeUpdate,
  throttleUpdate,
} from '../src/core/sync-messages.js';
import type { RejectsReport } from '../src/core/rejects-ref.js';
import { syncEndAlerts, syncFailedAlerts, type AlertEvent } from '../src/core/alerts.js';
import { markLanded } from '../src/core/watermark.js';
import { LeadsyncState } from '../src/core/search-attributes.js';
import { chunkPriority } from './chunk-priority.js';
import { LONG_CHUNK_SECONDS } from '../src/core/chunk-size.js';
import { LaneBacklog } from './lane-backlog.js';
import { chunkRows, maxInFlight, rowsPerSecond, scanWants, type ChunkTerms } from './lane-flow.js';
import { describeProgress } from './progress.js';
import { RecentRate } from './recent-rate.js';
import { carriedOn, countChunk, syncProgress, syncResult } from './sync-state.js';

/** The activities a run calls, each proxied with the retry policy the workflow gives it (workflows/sync.ts). */
export interface SyncRunActivities {
  /** Reading the source and writing the rejects report. */
  control: Pick<ActivityInterfaceFor<SyncActivities>, 'scanChunks' | 'writeRejectsReport' | 'retrySetSummary'>;
  /** Pushing a chunk, on its lane's task queue. */
  chunks: Pick<ActivityInterfaceFor<SyncActivities>, 'pushChunk'>;
}

/** Chunks carry a window's worth of calls (src/core/chunk-size.ts) in syncs started since this patch. */
const WINDOW_CHUNKS = 'chunks-carry-a-window';
/** And fifteen seconds' worth since this one, each heartbeating less often (LONG_CHUNK_HEARTBEAT). */
const LONG_CHUNKS = 'chunks-carry-fifteen-seconds';

/**
 * A long chunk's heartbeat timeout: a chunk records a heartbeat at 0.8 of it (activities/heartbeat.ts), so one that
 * ends within 32 s (its 15 s of calls, and the wait for the chunk before it) records none; a dead worker's chunk is
 * sent again after 40 s.
 */
const LONG_CHUNK_HEARTBEAT = '40 seconds';

/** The source's last rows go to a lane of many rows a call in whole calls, in syncs started since this patch. */
const WHOLE_TAIL_CALLS = 'tail-whole-calls';

/** A chunk in flight counts for what it has left when the source's end is split, in syncs started since this patch. */
const TAIL_BY_WHAT_IS_LEFT = 'tail-split-by-what-is-left';

/** A chunk a pause stopped after it sent calls runs again told so, in syncs that resumed one since this patch. */
const PAUSED_CHUNKS_SENT_BEFORE = 'paused-chunks-say-they-sent';

function describeRows(chunk: ChunkRange): string {
  const last = chunk.firstRow + chunk.rows - 1;
  return `row${last > chunk.firstRow ? `s ${chunk.firstRow}-${last}` : ` ${chunk.firstRow}`}`;
}

function sumOf(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** A chunk that stopped sending because the sync was paused (activities/push-chunk.ts). */
function stoppedByPause(err: unknown): err is ActivityFailure {
  return (
    err instanceof ActivityFailure &&
    err.cause instanceof ApplicationFailure &&
    err.cause.type === FailureType.syncPaused
  );
}

/**
 * Whether a chunk stopped by the pause may have sent calls: unless its failure says none went out (an older worker's
 * says nothing), it may have.
 */
function sentBeforePause(err: ActivityFailure): boolean {
  const stopped =
    err.cause instanceof ApplicationFailure ? StoppedChunkSchema.safeParse(err.cause.details?.[0]) : undefined;
  return !(stopped?.success && !stopped.data.sent);
}

/**
 * The retry set's chunks are all done: the source's own are cut next, from its start (or `since`), numbered on from
 * the retry set's rows so that each chunk keeps a first row of its own in the rejects report.
 */
function endRetryPass(sync: Carried): void {
  const { nextRow } = sync.cursor;
  sync.retrying = false;
  sync.scanned = false;
  sync.cursor = { position: null, nextRow };
  sync.landed = { nextRow, position: null, ahead: [] };
}

export type Outcome = 'done' | 'continue' | 'cancelled' | 'failed';

/**
 * How long chunks in flight may go on once the sync is cancelled or has failed, before they are cancelled too: a chunk
 * cancelled after it sent calls leaves rows at the vendor that the sync's counts miss. Chunks of a window or less.
 */
const STOP_GRACE_MS = 20_000;
/** And long chunks: a lane's chunks in flight send one after the other, each LONG_CHUNK_SECONDS at the share. */
function longStopGraceMs(chunksInFlight: number, share: number): number {
  return Math.min(STOP_GRACE_MS + (chunksInFlight * LONG_CHUNK_SECONDS * 1000) / share, 10 * 60 * 1000);
}

/** One run of a sync: its lanes, what is pending and in flight on each, and the controls a person can use. */
export class SyncRun {
  /** Set once prepared (or carried over from the previous run). */
  private sync: Carried | undefined;
  private readonly inFlight = new Map<LaneName, number>();
  private readonly backlogs = new Map<LaneName, LaneBacklog>();
  private scanning = false;
  private cancelled = false;
  private paused = false;
  private changes = 0;
  private completedThisRun = 0;
  private backoffUntil: number | undefined;
  private readonly recentRate = new RecentRate();
  private state: SyncState = 'preparing';
  private readonly startedAt = Date.now();
  /** What ended the sync early, from a chunk or a scan no retry could help: the sync stops and says it. */
  private failure: { message: string; type: string } | undefined;
  /** Where chunk activities run, so that a sync stopping can cancel those still in flight after its grace. */
  private chunkScope: CancellationScope | undefined;
  private stopping = false;

  constructor(
    private readonly request: SyncRequest,
    private readonly activities: SyncRunActivities,
  ) {}

  listen(): void {
    setHandler(progressQuery, () => this.progress());
    setHandler(pauseUpdate, () => this.control(() => (this.paused = true)));
    setHandler(resumeUpdate, () => this.control(() => (this.paused = false)));
    setHandler(throttleUpdate, (share) => this.control(() => (this.request.share = share)), {
      validator: (share) => {
        const parsed = ShareSchema.safeParse(share);
        if (!parsed.success) throw new Error(`throttle: ${parsed.error.issues[0]?.message ?? 'invalid share'}`);
      },
    });
    setHandler(backoffSignal, (raw) => {
      const backoff = readBackoff(raw, Date.now());
      if (!backoff) return;
      this.backoffUntil = Math.max(this.backoffUntil ?? 0, backoff.until);
      this.changed();
    });
  }

  begin(sync: Carried): void {
    this.sync = sync;
    this.paused ||= sync.paused;
    this.enter(this.paused ? 'paused' : 'running');
  }

  cancel(): void {
    this.cancelled = true;
    this.changed();
  }

  /**
   * Keeps every lane's chunks in flight up to what its allowance can use, scanning ahead a page at a time, until
   * the source is drained (done), the run has spent its history budget (continue), or the sync is cancelled, in
   * which case the chunks in flight finish so the counts stay true.
   */
  async pushChunks(chunksPerRun: number): Promise<Outcome> {
    const sync = this.prepared();
    // Created inside the sync's non-cancellable scope: only stop() cancels it, never the workflow's cancellation.
    this.chunkScope ??= new CancellationScope();
    for (;;) {
      const rolling = this.completedThisRun >= chunksPerRun || workflowInfo().continueAsNewSuggested;
      const stopped = this.cancelled || this.failure !== undefined;
      if (sync.retrying && this.drained(sync) && this.totalInFlight() === 0 && !this.scanning) endRetryPass(sync);
      if (!stopped && !rolling) {
        this.scanAhead(sync);
        if (!this.paused) for (const lane of sync.plan.lanes) this.startChunks(sync, lane);
      }
      if (stopped) this.stopChunksInFlight();
      if (this.totalInFlight() === 0 && !this.scanning) {
        if (this.failure) return 'failed';
        if (this.cancelled) return 'cancelled';
        if (this.drained(sync)) return 'done';
        if (rolling) return 'continue';
      }
      const seen = this.changes;
      await condition(() => this.changes !== seen);
    }
  }

  private scanAhead(sync: Carried): void {
    if (this.scanning || sync.scanned) return;
    const terms = this.chunkTerms();
    const lanes = sync.plan.lanes.map((lane) => ({
      lane,
      pendingChunks: this.pending(sync, lane.lane).length,
      queuedRows: this.queuedRows(sync, lane, terms),
    }));
    const wanted = scanWants(lanes, sync.plan.totalRows - (sync.cursor.nextRow - 1), terms);
    const sizes = wanted.flatMap((w) => w.sizes);
    if (sizes.length === 0) return;
    this.scanning = true;
    const { pin, runId } = sync.plan;
    const request = {
      source: this.request.source,
      cursor: sync.cursor,
      sizes,
      ...(pin ? { pin } : {}),
      ...(runId ? { runId } : {}),
      account: this.request.account,
      records: this.request.records,
      ...(this.request.mapping ? { mapping: this.request.mapping } : {}),
      ...(sync.retrying ? { retry: true as const, target: this.request.target } : {}),
    };
    void this.activities.control.scanChunks(request).then(
      (scan) => {
        let next = 0;
        for (const w of wanted) {
          this.pending(sync, w.lane).push(...scan.chunks.slice(next, next + w.sizes.length));
          next += w.sizes.length;
        }
        sync.cursor = scan.cursor;
        sync.scanned = scan.done;
        this.scanning = false;
        this.changed();
      },
      (err: unknown) => {
        this.scanning = false;
        this.failed('reading the source', err);
      },
    );
  }

  /** Once stopping, chunks in flight get a grace to finish (their counts stay true), then are cancelled. */
  private stopChunksInFlight(): void {
    if (this.stopping || this.totalInFlight() === 0) return;
    this.stopping = true;
    const { span, share } = this.chunkTerms();
    const grace = span === 'long' ? longStopGraceMs(Math.max(...this.inFlight.values()), share) : STOP_GRACE_MS;
    void sleep(grace).then(() => this.chunkScope?.cancel());
  }

  /** A chunk or a scan failed for good: no more chunks start, and the sync fails with what the failure says. */
  private failed(where: string, err: unknown): void {
    if (isCancellation(err)) return this.changed();
    const cause = err instanceof ActivityFailure ? (err.cause ?? err) : err;
    this.failure ??= {
      message: `${where}: ${cause instanceof Error ? cause.message : String(cause)}`,
      type: cause instanceof ApplicationFailure && cause.type ? cause.type : 'SyncFailed',
    };
    this.changed();
  }

  /** Writes the rejects report of the rows done so far (best effort), and ends the sync as Failed. */
  async fail(): Promise<never> {
    const failure = this.failure ?? { message: 'the sync stopped', type: 'SyncFailed' };
    this.enter('writing-rejects');
    const rejects = await this.activities.control
      .writeRejectsReport(this.rejectsReportRequest())
      .catch(() => undefined);
    this.enter('failed');
    await condition(allHandlersFinished);
    const where = typeof rejects === 'string' ? `; rejects so far: ${rejects}` : '';
    throw ApplicationFailure.nonRetryable(`sync failed, ${failure.message}${where}`, failure.type);
  }

  /**
   * What chunks are cut by. Read where a lane's chunks are sized or counted, never before: the patch's marker goes
   * into the history where the sync first asked, and a replay must ask at the same place.
   */
  private chunkTerms(): ChunkTerms {
    const span = !patched(WINDOW_CHUNKS) ? 'tenth' : patched(LONG_CHUNKS) ? 'long' : 'window';
    return { share: this.request.share, span, wholeTailCalls: patched(WHOLE_TAIL_CALLS) };
  }

  /** Rows the lane holds, pending or in flight (before the patch, a chunk in flight counted as full). */
  private queuedRows(sync: Carried, lane: LaneRun, terms: ChunkTerms): number {
    const pendingRows = sumOf(this.pending(sync, lane.lane).map((chunk) => chunk.rows));
    if (!patched(TAIL_BY_WHAT_IS_LEFT))
      return pendingRows + (this.inFlight.get(lane.lane) ?? 0) * chunkRows(lane, terms);
    return pendingRows + this.backlog(lane.lane).rowsLeft(rowsPerSecond(lane, terms.share), Date.now());
  }

  private backlog(lane: LaneName): LaneBacklog {
    let backlog = this.backlogs.get(lane);
    if (!backlog) this.backlogs.set(lane, (backlog = new LaneBacklog()));
    return backlog;
  }

  private startChunks(sync: Carried, lane: LaneRun): void {
    const pending = this.pending(sync, lane.lane);
    while (pending.length > 0 && (this.inFlight.get(lane.lane) ?? 0) < maxInFlight(lane, this.chunkTerms())) {
      const { sentBefore, ...chunk } = pending.shift()!;
      // The retry set's chunks are key ranges of the row store: they move no mark of the source.
      const retry = sync.retrying === true;
      this.inFlight.set(lane.lane, (this.inFlight.get(lane.lane) ?? 0) + 1);
      const backlog = this.backlog(lane.lane);
      backlog.start(chunk.rows, Date.now());
      const done = () => {
        this.inFlight.set(lane.lane, (this.inFlight.get(lane.lane) ?? 1) - 1);
        backlog.end(chunk.rows, rowsPerSecond(lane, this.request.share), Date.now());
      };
      void this.pushChunk(sync, lane, chunk, { retry, sentBefore: sentBefore === true }).then(
        (result) => {
          done();
          this.completedThisRun++;
          if (!retry) markLanded(sync.landed, chunk);
          countChunk(sync.counts, result);
          this.recentRate.record(Date.now(), sync.counts.read);
          this.changed();
        },
        (err: unknown) => {
          done();
          if (!stoppedByPause(err)) return this.failed(`${lane.lane} lane, ${describeRows(chunk)}`, err);
          // Back at the head of its lane, sent whole on resume; one that sent calls says so when it runs again, for
          // activities posted before the pause must not be posted twice.
          const sent = sentBefore === true || (sentBeforePause(err) && patched(PAUSED_CHUNKS_SENT_BEFORE));
          pending.unshift(sent ? { ...chunk, sentBefore: true } : chunk);
          this.changed();
        },
      );
    }
  }

  private pushChunk(
    sync: Carried,
    lane: LaneRun,
    chunk: ChunkRange,
    { retry, sentBefore }: { retry: boolean; sentBefore: boolean },
  ): Promise<ChunkResult> {
    const scope = this.chunkScope ?? CancellationScope.current();
    return scope.run(() =>
      this.activities.chunks.pushChunk.executeWithOptions(
        {
          taskQueue: lane.taskQueue,
          ...chunkPriority(lane, this.request.priority),
          ...(this.chunkTerms().span === 'long' ? { heartbeatTimeout: LONG_CHUNK_HEARTBEAT } : {}),
          summary: `${lane.lane} lane: ${describeRows(chunk)}`,
        },
        [
          {
            syncId: workflowInfo().workflowId,
            account: this.request.account,
            lane: lane.lane,
            records: this.request.records,
            source: this.request.source,
            mapping: this.request.mapping,
            target: this.request.target,
            share: this.request.share,
            ...(this.request.priority !== 'normal' ? { priority: this.request.priority } : {}),
            rowsPerCall: lane.rowsPerCall,
            chunk,
            ...(sync.plan.pin ? { pin: sync.plan.pin } : {}),
            ...(sync.plan.runId ? { runId: sync.plan.runId } : {}),
            ...(retry ? { retry: true as const } : {}),
            ...(sentBefore ? { sentBefore: true as const } : {}),
          },
        ],
      ),
    );
  }

  private pending(sync: Carried, lane: LaneName): PendingChunk[] {
    return (sync.pending[lane] ??= []);
  }

  private totalInFlight(): number {
    return [...this.inFlight.values()].reduce((a, b) => a + b, 0);
  }

  private drained(sync: Carried): boolean {
    return sync.scanned && sync.plan.lanes.every((lane) => this.pending(sync, lane.lane).length === 0);
  }

  private control(change: () => void): SyncProgress {
    change();
    if (this.sync && !this.cancelled) this.enter(this.paused ? 'paused' : 'running');
    this.changed();
    return this.progress();
  }

  enter(state: SyncState): void {
    if (state !== this.state) upsertSearchAttributes([{ key: LeadsyncState, value: state }]);
    this.state = state;
    setCurrentDetails(describeProgress(this.progress()));
  }

  private changed(): void {
    this.changes++;
    setCurrentDetails(describeProgress(this.progress()));
  }

  private prepared(): Carried {
    if (!this.sync) throw new Error('the sync is not prepared yet');
    return this.sync;
  }

  progress(): SyncProgress {
    const { state, request, sync, startedAt, backoffUntil } = this;
    const now = Date.now();
    const recentRowsPerSecond = this.recentRate.rowsPerSecond(now);
    return syncProgress({ state, request, sync, startedAt, backoffUntil, recentRowsPerSecond }, now);
  }

  carry(): Carried {
    return carriedOn(this.prepared(), this.paused);
  }

  rejectsReportRequest(): RejectsReportRequest {
    const { runId } = this.prepared().plan;
    return { syncId: workflowInfo().workflowId, ...(runId ? { runId } : {}) };
  }

  /**
   * The retry set once the chunks are done, for a sync that converges with the runs before it (SyncPlan.convergence);
   * undefined for any other.
   */
  async retrySet(): Promise<RetrySetSummary | undefined> {
    if (!this.prepared().plan.convergence) return undefined;
    const { account, source, records, target } = this.request;
    return this.activities.control.retrySetSummary({
      syncId: workflowInfo().workflowId,
      account,
      source,
      records,
      target,
    });
  }

  result(rejects: RejectsReport, retrySet?: RetrySetSummary): SyncResult {
    return syncResult(this.request, this.prepared(), rejects, this.cancelled, Date.now(), retrySet);
  }

  /** The alerts the sync's result raises, by the triggers its plan carries, against the plan's rate at its share. */
  endAlerts(result: SyncResult): AlertEvent[] {
    const { plan } = this.prepared();
    const { read, accepted, rejected, unattributed } = result;
    return syncEndAlerts(plan.alerts, {
      syncId: workflowInfo().workflowId,
      account: this.request.account,
      at: new Date().toISOString(),
      counts: { read, accepted, rejected, unattributed },
      totalRows: result.totalRows,
      seconds: result.seconds,
      cancelled: result.cancelled,
      ceilingRowsPerSecond: plan.rowsPerSecond * this.request.share,
      retrySet: result.retrySet,
    });
  }

  /** Whether the sync has its plan, and with it the config's triggers: a sync whose prepare failed has not. */
  planned(): boolean {
    return this.sync !== undefined;
  }

  /** The alert of the sync's failure, `failure` being what it failed with. */
  failedAlerts(failure: string): AlertEvent[] {
    return syncFailedAlerts(this.sync?.plan, {
      syncId: workflowInfo().workflowId,
      account: this.request.account,
      at: new Date().toISOString(),
      failure,
    });
  }
}
