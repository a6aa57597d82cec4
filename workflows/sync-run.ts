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
  ZERO_COUNTS,
  type Carried,
  type RejectsReportRequest,
  type ChunkResult,
  type LaneRun,
  type SyncCounts,
  type SyncProgress,
  type SyncRequest,
  type SyncResult,
  type SyncState,
} from '../src/core/contract.js';
import { callsPerChunk, callsPerChunkBeforeWindows } from '../src/core/chunk-size.js';
import { FailureType } from '../src/core/failures.js';
import { backoffSignal, pauseUpdate, progressQuery, resumeUpdate, throttleUpdate } from '../src/core/sync-messages.js';
import { splitTail } from '../src/core/tail-split.js';
import type { RejectsReport } from '../src/core/rejects-ref.js';
import { markLanded, nextSince } from '../src/core/watermark.js';
import { LeadsyncState } from '../src/core/search-attributes.js';
import { describeProgress } from './progress.js';

/** The activities a run calls, each proxied with the retry policy the workflow gives it (workflows/sync.ts). */
export interface SyncRunActivities {
  /** Reading the source and writing the rejects report. */
  control: Pick<ActivityInterfaceFor<SyncActivities>, 'scanChunks' | 'writeRejectsReport'>;
  /** Pushing a chunk, on its lane's task queue. */
  chunks: Pick<ActivityInterfaceFor<SyncActivities>, 'pushChunk'>;
}

/** Each lane gets this many seconds of its allowance cut into chunks per scan: enough to stay busy, little to carry. */
const PAGE_SECONDS = 10;
/** Chunks carry a window's worth of calls (src/core/chunk-size.ts) in syncs started since this patch. */
const WINDOW_CHUNKS = 'chunks-carry-a-window';
/** Chunks each lane keeps in flight at the least (syncs started since WINDOW_CHUNKS). */
const MIN_IN_FLIGHT = 4;

function describeRows(chunk: ChunkRange): string {
  const last = chunk.firstRow + chunk.rows - 1;
  return `row${last > chunk.firstRow ? `s ${chunk.firstRow}-${last}` : ` ${chunk.firstRow}`}`;
}

function sumOf(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** `rows` cut into chunks of `size`, the last one shorter. */
function chunkSizes(rows: number, size: number): number[] {
  const sizes = Array<number>(Math.floor(rows / size)).fill(size);
  return rows % size > 0 ? [...sizes, rows % size] : sizes;
}

/** A chunk that stopped sending because the sync was paused (activities/push-chunk.ts). */
function stoppedByPause(err: unknown): boolean {
  return (
    err instanceof ActivityFailure &&
    err.cause instanceof ApplicationFailure &&
    err.cause.type === FailureType.syncPaused
  );
}

export type Outcome = 'done' | 'continue' | 'cancelled' | 'failed';

/** How long chunks in flight may go on once the sync is cancelled or has failed, before they are cancelled too. */
const STOP_GRACE = '20 seconds';

/** One run of a sync: its lanes, what is pending and in flight on each, and the controls a person can use. */
export class SyncRun {
  /** Set once prepared (or carried over from the previous run). */
  private sync: Carried | undefined;
  private readonly inFlight = new Map<LaneName, number>();
  private scanning = false;
  private cancelled = false;
  private paused = false;
  private changes = 0;
  private completedThisRun = 0;
  private backoffUntil: number | undefined;
  private state: SyncState = 'preparing';
  private readonly startedAt = Date.now();
  /** What ended the sync early, from a chunk or a scan no retry could help: the sync stops and says it. */
  private failure: { message: string; type: string } | undefined;
  /** Where chunk activities run, so that a sync stopping can cancel those still in flight after STOP_GRACE. */
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
    setHandler(backoffSignal, ({ until }) => {
      this.backoffUntil = Math.max(this.backoffUntil ?? 0, until);
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
    const pending = (lane: LaneRun) => this.pending(sync, lane.lane).length;
    const low = (lane: LaneRun) => pending(lane) < this.pageChunks(lane);
    // Every lane gets its page whenever one runs low (up to two pages waiting), so the lanes hold rows in proportion
    // to their rates and the source's last rows do not all fall to whichever lane asked last: at Pro, a general lane
    // of 0.8 rows/s left with the tail ran 10 s past the bulk lane.
    const proportional = patched(WINDOW_CHUNKS) && sync.plan.lanes.some(low);
    let wanted = sync.plan.lanes.map((lane) => {
      const chunks =
        low(lane) || (proportional && pending(lane) < 2 * this.pageChunks(lane)) ? this.pageChunks(lane) : 0;
      return { lane: lane.lane, sizes: Array<number>(chunks).fill(this.chunkRows(lane)) };
    });
    const remaining = sync.plan.totalRows - (sync.cursor.nextRow - 1);
    if (proportional && remaining > 0 && remaining <= wanted.reduce((sum, w) => sum + sumOf(w.sizes), 0)) {
      // The source's last rows: split so that the lanes finish together, not a page each.
      const split = splitTail(
        sync.plan.lanes.map((lane) => ({
          rowsPerSecond: this.rowsPerSecond(lane),
          queuedSeconds: this.queuedRows(sync, lane) / this.rowsPerSecond(lane),
        })),
        remaining,
      );
      wanted = wanted.map((w, i) => ({
        lane: w.lane,
        sizes: chunkSizes(split[i]!, this.chunkRows(sync.plan.lanes[i]!)),
      }));
    }
    const sizes = wanted.flatMap((w) => w.sizes);
    if (sizes.length === 0) return;
    this.scanning = true;
    const pin = sync.plan.pin;
    const request = {
      source: this.request.source,
      cursor: sync.cursor,
      sizes,
      ...(pin ? { pin } : {}),
      account: this.request.account,
      records: this.request.records,
      ...(this.request.mapping ? { mapping: this.request.mapping } : {}),
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

  /** Once stopping, chunks in flight get STOP_GRACE to finish (their counts stay true), then are cancelled. */
  private stopChunksInFlight(): void {
    if (this.stopping || this.totalInFlight() === 0) return;
    this.stopping = true;
    void sleep(STOP_GRACE).then(() => this.chunkScope?.cancel());
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

  private chunkRows(lane: LaneRun): number {
    return lane.rowsPerCall * this.callsPerChunk(lane);
  }

  private rowsPerSecond(lane: LaneRun): number {
    return lane.callsPerSecond * this.request.share * lane.rowsPerCall;
  }

  /** Rows the lane holds, pending or in flight (a chunk in flight counted as full). */
  private queuedRows(sync: Carried, lane: LaneRun): number {
    const pendingRows = sumOf(this.pending(sync, lane.lane).map((chunk) => chunk.rows));
    return pendingRows + (this.inFlight.get(lane.lane) ?? 0) * this.chunkRows(lane);
  }

  private startChunks(sync: Carried, lane: LaneRun): void {
    const pending = this.pending(sync, lane.lane);
    while (pending.length > 0 && (this.inFlight.get(lane.lane) ?? 0) < this.maxInFlight(lane)) {
      const chunk = pending.shift()!;
      this.inFlight.set(lane.lane, (this.inFlight.get(lane.lane) ?? 0) + 1);
      const done = () => this.inFlight.set(lane.lane, (this.inFlight.get(lane.lane) ?? 1) - 1);
      void this.pushChunk(sync, lane, chunk).then(
        (result) => {
          done();
          this.completedThisRun++;
          markLanded(sync.landed, chunk);
          this.count(sync.counts, result);
          this.changed();
        },
        (err: unknown) => {
          done();
          if (!stoppedByPause(err)) return this.failed(`${lane.lane} lane, ${describeRows(chunk)}`, err);
          // Back at the head of its lane, sent whole on resume.
          pending.unshift(chunk);
          this.changed();
        },
      );
    }
  }

  private pushChunk(sync: Carried, lane: LaneRun, chunk: ChunkRange): Promise<ChunkResult> {
    const scope = this.chunkScope ?? CancellationScope.current();
    return scope.run(() =>
      this.activities.chunks.pushChunk.executeWithOptions(
        { taskQueue: lane.taskQueue, summary: `${lane.lane} lane: ${describeRows(chunk)}` },
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
            rowsPerCall: lane.rowsPerCall,
            chunk,
            ...(sync.plan.pin ? { pin: sync.plan.pin } : {}),
          },
        ],
      ),
    );
  }

  /**
   * Enough chunks in flight that the lane never waits on a worker round trip, and no more. At least MIN_IN_FLIGHT: a
   * lane whose sustained rate is low may still burst (SmartLead: a minute's 60 calls at 10 a second), and a round trip
   * through a queue of 4 partitions takes long enough that two one-call chunks could not keep up with the burst.
   */
  private maxInFlight(lane: LaneRun): number {
    const enough = Math.min(200, Math.ceil(this.chunksPerSecond(lane) * 3) + 1);
    return patched(WINDOW_CHUNKS) ? Math.max(MIN_IN_FLIGHT, enough) : enough;
  }

  private pageChunks(lane: LaneRun): number {
    return Math.max(1, Math.ceil(this.chunksPerSecond(lane) * PAGE_SECONDS));
  }

  private chunksPerSecond(lane: LaneRun): number {
    return (lane.callsPerSecond * this.request.share) / this.callsPerChunk(lane);
  }

  private callsPerChunk(lane: LaneRun): number {
    const rate = lane.callsPerSecond * this.request.share;
    return patched(WINDOW_CHUNKS) ? callsPerChunk(rate) : callsPerChunkBeforeWindows(rate);
  }

  private pending(sync: Carried, lane: LaneName): ChunkRange[] {
    return (sync.pending[lane] ??= []);
  }

  private totalInFlight(): number {
    return [...this.inFlight.values()].reduce((a, b) => a + b, 0);
  }

  private drained(sync: Carried): boolean {
    return sync.scanned && sync.plan.lanes.every((lane) => this.pending(sync, lane.lane).length === 0);
  }

  private count(counts: SyncCounts, result: ChunkResult): void {
    counts.read += result.rows;
    counts.accepted += result.accepted;
    counts.rejected += result.rejected;
    // Both absent before rows refused without a name were counted: a chunk result, or counts carried from such a run.
    counts.unattributed = (counts.unattributed ?? 0) + (result.unattributed ?? 0);
    counts.retried += result.retries;
    counts.calls += result.calls;
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
    const sync = this.sync;
    const counts = sync?.counts ?? ZERO_COUNTS;
    const startedAt = sync?.startedAt ?? this.startedAt;
    const elapsed = Math.max(1, Date.now() - startedAt) / 1000;
    const waiting = this.backoffUntil !== undefined && this.backoffUntil > Date.now();
    return {
      state: this.state,
      account: this.request.account,
      counts: { ...counts },
      share: this.request.share,
      rowsPerSecond: counts.read / elapsed,
      startedAt,
      run: sync?.run ?? 0,
      ...(sync
        ? {
            vendor: sync.plan.vendor,
            totalRows: sync.plan.totalRows,
            ceilingRowsPerSecond: sync.plan.rowsPerSecond * this.request.share,
          }
        : {}),
      ...(waiting ? { backoffUntil: this.backoffUntil } : {}),
    };
  }

  carry(): Carried {
    const sync = this.prepared();
    return { ...sync, paused: this.paused, run: sync.run + 1 };
  }

  rejectsReportRequest(): RejectsReportRequest {
    return { syncId: workflowInfo().workflowId };
  }

  /** The counts, and where the rejects are: a report file's path (a string), or a table's report. */
  result(rejects: RejectsReport): SyncResult {
    const sync = this.prepared();
    const since = nextSince(this.request.source, sync.landed);
    return {
      ...sync.counts,
      totalRows: sync.plan.totalRows,
      ...(typeof rejects === 'string' ? { rejectsFile: rejects } : rejects ? { rejectsTable: rejects } : {}),
      seconds: (Date.now() - sync.startedAt) / 1000,
      cancelled: this.cancelled,
      ...(since ? { nextSince: since } : {}),
    };
  }
}
