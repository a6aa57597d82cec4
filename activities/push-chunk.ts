import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Context, activityInfo } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Account } from '../src/config/accounts.js';
import { ConfigError } from '../src/core/errors.js';
import { laneTaskQueue } from '../src/core/task-queues.js';
import { laneMetrics } from '../src/observability/metrics.js';
import { recordLanes } from '../src/core/record-lanes.js';
import { readChunkRows } from './chunk-rows.js';
import type { ChunkResult, ChunkTask } from '../src/core/contract.js';
import { FailureType } from '../src/core/failures.js';
import { rejectedRows, unattributedReject } from '../src/rejects/types.js';
import { BatchRefusedError, BatchTooLargeError, RateLimitedError, TransientError } from '../src/vendors/errors.js';
import type { LeadRecord, Pace, RowOutcome } from '../src/vendors/types.js';
import type { ActivityContext, ConnectedAccount } from './context.js';
import { toActivityFailure } from './failures.js';
import { withHeartbeats } from './heartbeat.js';
import { backoffSignal } from '../src/core/sync-messages.js';

/**
 * Reads one chunk by its range, maps and checks its rows, and sends the good ones in vendor calls of the lane's size
 * (about a window's worth of calls, src/core/chunk-size.ts), each at a slot the account governor grants. Calls not yet
 * sent when the sync is paused give their slots back, and the chunk goes back to the sync unsent. Rows that fail a check, or that the vendor refuses, go to the chunk's rejects (its file,
 * or its rows of the rejects table); the rest of the chunk goes on. A retry reads the same rows again: upserts by
 * email make a resend harmless, and the retry's rejects replace the earlier attempt's.
 */
export async function pushChunk(context: ActivityContext, task: ChunkTask): Promise<ChunkResult> {
  const pause = context.pauses.watch(task.syncId);
  try {
    return await withHeartbeats(async (cancelled) => {
      const signal = AbortSignal.any([cancelled, pause.signal]);
      const metrics = chunkMetrics(context, task);
      const connected = context.connect(task.account);
      const rowsPerCall = laneOf(connected.account, task);
      const read = await context.withSource(
        task.source,
        (source) => readChunkRows(source, connected.vendor, task.mapping, task.chunk, task.records ?? 'leads'),
        task.pin,
      );
      // A lead whose email a row before it carries is that row's duplicate, never sent: one version per lead.
      const { leads, duplicates } =
        task.records === 'activities'
          ? { leads: read.leads, duplicates: [] }
          : await context.firstRows.separate(task.syncId, read.leads, connected.vendor.emailField);
      const rows = read.rows;
      const rejects = [...read.rejects, ...duplicates];
      const calls: Calls = { made: 0, retried: 0, onCall: () => metrics.request() };
      const refusals: Refusals = { unnamed: new Map(), splitCalls: REFUSAL_SPLIT_CALLS };
      const outcomes = await sendCalls(
        { context, connected, task: { ...task, rowsPerCall }, calls, refusals, signal },
        leads,
      );
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected')
          rejects.push({ row: outcome.row, field: outcome.field, reason: outcome.reason });
      }
      const unattributed = [...refusals.unnamed.values()].reduce((sum, count) => sum + count, 0);
      // The report reads in row order whichever check refused a row (fields, duplicates, the vendor); the stable sort
      // keeps a row's fields in order, and the lines for rows not named come last.
      rejects.sort((a, b) => (a.row ?? Infinity) - (b.row ?? Infinity));
      for (const [reason, count] of refusals.unnamed) rejects.push(unattributedReject(count, reason));
      await context.withRejectsSink((sink) => sink.writeChunk(task.syncId, task.chunk.firstRow, rejects));
      // Rows refused but not named are among those the outcomes call accepted (CallResult.unattributed).
      const accepted = outcomes.filter((o) => o.status === 'accepted').length - unattributed;
      // A row with several bad fields has a line per field in the report, but is one rejected row.
      const rejected = rejectedRows(rejects);
      metrics.accepted(accepted);
      // Rows not named are in the rejects report too, as a count.
      metrics.rejected(rejected + unattributed);
      return {
        rows,
        accepted,
        rejected,
        ...(unattributed > 0 ? { unattributed } : {}),
        calls: calls.made,
        retries: activityInfo().attempt - 1 + calls.retried,
      };
    });
  } catch (err) {
    if (pause.signal.aborted) {
      // Nothing of the chunk is counted or written: it goes back to the sync's pending chunks, and is sent whole on
      // resume (its calls already sent are upserts). Not retried: the sync decides when it runs again.
      throw ApplicationFailure.create({
        type: FailureType.syncPaused,
        message: `the sync was paused before rows ${task.chunk.firstRow}-${task.chunk.firstRow + task.chunk.rows - 1} were all sent`,
        nonRetryable: true,
      });
    }
    if (err instanceof RateLimitedError) {
      const account = context.account(task.account);
      chunkMetrics(context, task).rateLimited(err.retryAfterMs);
      // Best effort, both: the retry happens at the vendor's time whether or not the governor and the sync heard.
      await Promise.all([
        context.governor
          .reportRateLimited(account, task.lane, err.retryAfterStated ? err.retryAfterMs : undefined, {
            window: err.window,
            refusedLimit: err.refusedLimit,
          })
          .catch(() => undefined),
        // So the sync can tell a person watching it what it is waiting for, and until when.
        context.deps.client.workflow
          .getHandle(task.syncId)
          .signal(backoffSignal, { lane: task.lane, until: Date.now() + err.retryAfterMs })
          .catch(() => undefined),
      ]);
    }
    throw boundedFailure(toActivityFailure(err, context.redactor), activityInfo().attempt);
  } finally {
    pause.stop();
  }
}

/**
 * The rows per call of the task's lane, from this worker's config. The task came from a workflow, whose state anyone
 * who can start one can write: a chunk runs only on its own lane's queue (whose rate limit is the lane's ceiling),
 * and never sends larger calls than the lane takes.
 */
function laneOf(account: Account, task: ChunkTask): number {
  const lane = recordLanes(account.effectivePlan, task.records ?? 'leads')[task.lane];
  const queue = laneTaskQueue(account.vendor, account.name, task.lane);
  if (!lane || activityInfo().taskQueue !== queue) {
    throw new ConfigError(`a chunk of account ${account.name}, lane ${task.lane}, runs only on task queue ${queue}`);
  }
  return Math.min(task.rowsPerCall ?? lane.rowsPerCall, lane.rowsPerCall);
}

/** Attempts of one vendor call that fails transiently (5xx, timeout, dropped connection) before its rows are split. */
const CALL_ATTEMPTS = 3;
/**
 * Attempts of a one-row call before that row is rejected for faults. A lost answer looks like any other fault, and the
 * write behind it may have landed: on a link losing a tenth of its answers, three in a row rejected about one good
 * row in a thousand, six reject one in a million; a row the vendor keeps failing on costs about 16 s more.
 */
const ROW_CALL_ATTEMPTS = 6;
const FIRST_CALL_RETRY_PAUSE_MS = 500;
/**
 * Attempts of a chunk that fails for anything but a rate limit (the source or the rejects store unreachable, a bug):
 * with the retry policy's backoff about two minutes, then the sync fails saying what went wrong. A rate limit is not
 * a fault: it retries at the vendor's time as long as it takes.
 */
const CHUNK_FAULT_ATTEMPTS = 8;

/** Vendor calls a chunk made, and those it made again in place after a transient fault. */
interface Calls {
  made: number;
  retried: number;
  onCall: () => void;
}

/**
 * Row maxima a vendor stated in an over-size refusal, per worker, account and lane: the plan's size stays the default
 * (LeadSquared's seed: 50 leads), and drops to what the vendor says once it says it, rather than a refusal per chunk.
 */
const statedMaxima = new WeakMap<ActivityContext, Map<string, number>>();

function statedMaximum({ context, task }: Sending): number | undefined {
  return statedMaxima.get(context)?.get(`${task.account}/${task.lane}/${task.records ?? 'leads'}`);
}

function learnMaximum({ context, task }: Sending, maxRows: number): void {
  const maxima = statedMaxima.get(context) ?? new Map<string, number>();
  statedMaxima.set(context, maxima);
  const key = `${task.account}/${task.lane}/${task.records ?? 'leads'}`;
  maxima.set(key, Math.min(maxima.get(key) ?? Infinity, maxRows));
}

/**
 * Extra calls a chunk may spend splitting batches the vendor refused whole without naming a row (BatchRefusedError:
 * SmartLead's "lead validation failed", a LeadSquared bulk refusal). Halving finds k refused rows of n in about
 * 2k*log2(n/k) calls, but when the vendor refuses every row it takes 2n-1: 799 calls for SmartLead's 400, over 13
 * minutes at its 60 calls a minute, past the chunk's 10-minute start-to-close, so the chunk would time out and start
 * over, a stall. 32 calls (about half a minute at that rate, on top of the chunk's own calls) still find 2-3 refused
 * rows of 400 exactly; past it, the batches still refused are rejected whole with the vendor's message.
 */
export const REFUSAL_SPLIT_CALLS = 32;

/** What the vendor refused without naming rows over a chunk's calls (reason -> rows), and the split calls left. */
interface Refusals {
  unnamed: Map<string, number>;
  splitCalls: number;
}

/** What every call of a chunk needs: the account's client, the task, the call counts and the stop signal. */
interface Sending {
  context: ActivityContext;
  connected: ConnectedAccount;
  task: ChunkTask;
  calls: Calls;
  refusals: Refusals;
  signal: AbortSignal;
}

function boundedFailure(failure: Error, attempt: number): Error {
  if (!(failure instanceof ApplicationFailure) || failure.nonRetryable) return failure;
  if (failure.type === FailureType.rateLimited || attempt < CHUNK_FAULT_ATTEMPTS) return failure;
  return ApplicationFailure.nonRetryable(
    `${failure.message} (the chunk failed ${attempt} attempts in a row)`,
    failure.type ?? 'Error',
  );
}

/** The lane's series on this worker's Prometheus endpoint; recorders of one lane add to the same series. */
function chunkMetrics(context: ActivityContext, task: ChunkTask): ReturnType<typeof laneMetrics> {
  const account = context.account(task.account);
  return laneMetrics(Context.current().metricMeter, {
    vendor: account.vendor,
    account: account.name,
    lane: task.lane,
    windows: account.effectivePlan.lanes[task.lane]?.windows ?? [],
  });
}

/**
 * The chunk's rows in calls of the lane's size (or the smaller maximum the vendor stated), made at once so that their
 * slots come in one reservation. Faults are handled call by call (see send); the first call that fails the chunk (a
 * rate limit, refused keys) stops those still waiting for their slot, and the chunk is retried whole: leads are
 * upserted by email, activities checked against what the lead already has.
 */
async function sendCalls(sending: Sending, leads: LeadRecord[]): Promise<RowOutcome[]> {
  const { task, signal } = sending;
  const size = Math.min(task.rowsPerCall ?? leads.length, statedMaximum(sending) ?? Infinity);
  const batches: LeadRecord[][] = [];
  for (let i = 0; i < leads.length; i += size) batches.push(leads.slice(i, i + size));
  const stop = new AbortController();
  const stopped = AbortSignal.any([signal, stop.signal]);
  // Each call waiting for its slot listens for the stop: a chunk of many calls is not a listener leak.
  setMaxListeners(batches.length + 10, stopped);
  let failure: { err: unknown } | undefined;
  const sent = await Promise.allSettled(
    batches.map((batch) =>
      send({ ...sending, signal: stopped }, batch).catch((err: unknown) => {
        failure ??= { err };
        stop.abort();
        throw err;
      }),
    ),
  );
  if (failure) throw failure.err;
  return sent.flatMap((result) => (result.status === 'fulfilled' ? result.value : []));
}

/**
 * One vendor call for the whole batch, retried in place a few times when it fails transiently, and split when it
 * still fails or the vendor says it is too large (halves, or the vendor's stated maximum): the rows that can land
 * land, and a single row that keeps failing is rejected with the vendor's last message. A rate limit, refused keys
 * or an answer the vendor never gives fail the chunk's attempt, for Temporal's retry at the vendor's time or for the
 * sync to fail saying what to fix. `resent`: this batch may have landed before (a lost answer), which activities,
 * not idempotent at the vendor, check before posting again.
 */
async function send(sending: Sending, leads: LeadRecord[], resent = activityInfo().attempt > 1): Promise<RowOutcome[]> {
  if (leads.length === 0) return [];
  for (let attempt = 1; ; attempt++) {
    try {
      return await callOnce(sending, leads, resent || attempt > 1);
    } catch (err) {
      if (err instanceof BatchRefusedError && leads.length > 1 && sending.refusals.splitCalls < 2) {
        const reason =
          `${err.reason} (the vendor refused these ${leads.length} rows together; not split further, ` +
          `the chunk spent its ${REFUSAL_SPLIT_CALLS} calls finding refused rows)`;
        return leads.map((lead) => ({ row: lead.row, status: 'rejected', reason }));
      }
      if (err instanceof BatchTooLargeError) {
        if (leads.length === 1) {
          const reason = `the vendor refused the row as too large: ${err.message}`;
          return [{ row: leads[0]!.row, status: 'rejected', reason }];
        }
        // The maximum the vendor names, kept for the worker's later calls; halves when it names none.
        const { maxRows } = err;
        const stated = maxRows !== undefined && maxRows >= 1 && maxRows < leads.length ? maxRows : undefined;
        if (stated !== undefined) learnMaximum(sending, stated);
        const size = stated ?? Math.ceil(leads.length / 2);
        if (err instanceof BatchRefusedError) sending.refusals.splitCalls -= Math.ceil(leads.length / size);
        return sendInParts(sending, leads, size, resent || attempt > 1);
      }
      if (!(err instanceof TransientError)) throw err;
      const attempts = leads.length === 1 ? ROW_CALL_ATTEMPTS : CALL_ATTEMPTS;
      if (attempt < attempts) {
        sending.calls.retried++;
        await sleep(FIRST_CALL_RETRY_PAUSE_MS * 2 ** (attempt - 1), undefined, { signal: sending.signal });
        continue;
      }
      if (leads.length === 1) {
        const reason = `${err.message} (still failing after ${ROW_CALL_ATTEMPTS} attempts)`;
        return [{ row: leads[0]!.row, status: 'rejected', reason }];
      }
      sending.calls.retried++;
      return sendInParts(sending, leads, Math.ceil(leads.length / 2), true);
    }
  }
}

async function sendInParts(
  sending: Sending,
  leads: LeadRecord[],
  size: number,
  resent: boolean,
): Promise<RowOutcome[]> {
  const outcomes: RowOutcome[] = [];
  for (let i = 0; i < leads.length; i += size) {
    outcomes.push(...(await send(sending, leads.slice(i, i + size), resent)));
  }
  return outcomes;
}

/** One paced call for the whole batch (activities: the lookups and reads they need, then the post). */
async function callOnce(sending: Sending, leads: LeadRecord[], resent: boolean): Promise<RowOutcome[]> {
  const { context, connected, task, calls, refusals, signal } = sending;
  const { account, client } = connected;
  if (task.records === 'activities' && client.postActivities) {
    // Activities may take more than one call (a lookup, then the post): each is paced and counted.
    const pace: Pace = (call, lane = task.lane) => {
      calls.made++;
      calls.onCall();
      return context.governor.paced(account, lane, task.share, call, { signal });
    };
    return client.postActivities(task.lane, leads, pace, { retried: resent });
  }
  calls.made++;
  calls.onCall();
  const result = await context.governor.paced(
    account,
    task.lane,
    task.share,
    () => {
      // The calls of a chunk wait for their slots together: once one is refused for size, the others split at their
      // slot instead of being refused too.
      const stated = statedMaximum(sending);
      if (stated !== undefined && leads.length > stated) {
        throw new BatchTooLargeError(`the vendor takes at most ${stated} rows a call, as it stated before`, stated);
      }
      return client.upsertLeads(task.lane, leads, task.target);
    },
    { signal, quotaOf: (answer) => answer.quota },
  );
  for (const { count, reason } of result.unattributed ?? []) {
    refusals.unnamed.set(reason, (refusals.unnamed.get(reason) ?? 0) + count);
  }
  return result.outcomes;
}
