import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Context, activityInfo } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Account } from '../src/config/accounts.js';
import { ConfigError } from '../src/core/errors.js';
import { laneMetrics } from '../src/observability/metrics.js';
import { recordLanes } from '../src/core/record-lanes.js';
import { readChunkRows, type ChunkRows } from './chunk-rows.js';
import { chunkOutcome, leaveOutUnchanged, readRetryChunk } from './chunk-convergence.js';
import type { Source } from '../src/sources/source.js';
import type { ChunkResult, ChunkTask, StoppedChunk } from '../src/core/contract.js';
import { FailureType } from '../src/core/failures.js';
import { rejectedRows, unattributedReject } from '../src/rejects/types.js';
import { BatchTooLargeError, RateLimitedError } from '../src/vendors/errors.js';
import type { VendorRecord, Pace, RowOutcome } from '../src/vendors/types.js';
import type { ActivityContext, ConnectedAccount } from './context.js';
import {
  afterFailedCall,
  boundedFailure,
  type NextStep,
  RATE_LIMITED_CALL_ATTEMPTS,
  RATE_LIMITED_WAIT_IN_PLACE_MS,
  REFUSAL_SPLIT_CALLS,
} from './chunk-faults.js';
import { toActivityFailure } from './failures.js';
import { withHeartbeats } from './heartbeat.js';
import { cameByRoute, laneRoute } from './lane-route.js';
import { backoffSignal } from '../src/core/sync-messages.js';

/**
 * Reads one chunk by its range, maps and checks its rows, and sends the good ones in vendor calls of the lane's size
 * (about a window's worth of calls, src/core/chunk-size.ts), each at a slot the account governor grants. Calls not yet
 * sent when the sync is paused give their slots back, and the chunk goes back to the sync, saying whether any call of
 * it went out. Rows that fail a check, or that the vendor refuses, go to the chunk's rejects (its file, or its rows of
 * the rejects table); the rest of the chunk goes on. A retry reads the same rows again: upserts by email make a resend
 * harmless, activities are checked against what landed, and the retry's rejects replace the earlier attempt's.
 */
export async function pushChunk(context: ActivityContext, task: ChunkTask): Promise<ChunkResult> {
  const pause = context.pauses.watch(task.syncId);
  // Whether a call of the chunk may have gone out (an earlier attempt's, or one of this attempt's): a chunk a pause
  // stopped before any did has nothing to check when it runs again.
  let sent = activityInfo().attempt > 1;
  try {
    return await withHeartbeats(async (cancelled) => {
      const signal = AbortSignal.any([cancelled, pause.signal]);
      const metrics = chunkMetrics(context, task);
      const connected = context.connect(task.account);
      const rowsPerCall = laneOf(context, connected.account, task);
      const owner = { syncId: task.syncId, ...(task.runId ? { runId: task.runId } : {}) };
      // A repair's rows (only) are sent whatever landed before: reconciliation found the vendor's copy differs.
      const scope = task.only ? undefined : context.recurrenceScope(task);
      const chunk = await context.withSource(
        task.source,
        (source) => readChunk(context, scope, source, connected, task),
        task.pin,
      );
      const read = only(task.only, chunk.read);
      const { unchanged, retryKeys } = chunk;
      // A lead whose email a row before it carries is that row's duplicate, never sent: one version per lead.
      const { leads, duplicates } =
        task.records === 'activities'
          ? { leads: read.leads, duplicates: [] }
          : await context.firstRows.separate(owner, read.leads, connected.vendor.emailField);
      const rows = read.rows;
      const rejects = [...read.rejects, ...duplicates];
      const calls: Calls = { made: 0, retried: 0, onCall: () => metrics.request(), onSent: () => (sent = true) };
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
      // A table's row is found again by its key, not its number, which moves as the table changes.
      for (const reject of rejects) {
        const key = reject.row === undefined ? undefined : read.keys.get(reject.row);
        if (key !== undefined) reject.key = key;
      }
      for (const [reason, count] of refusals.unnamed) rejects.push(unattributedReject(count, reason));
      await context.withRejectsSink((sink) => sink.writeChunk(owner, task.chunk.firstRow, rejects));
      if (scope !== undefined) {
        const outcome = chunkOutcome(read, outcomes, rejects, retryKeys);
        await context.withRowStore((store) =>
          store.recordChunk(scope, { ...owner, firstRow: task.chunk.firstRow }, outcome),
        );
      }
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
        ...(unchanged > 0 ? { unchanged } : {}),
        calls: calls.made,
        retries: activityInfo().attempt - 1 + calls.retried,
      };
    });
  } catch (err) {
    if (pause.signal.aborted) {
      // Nothing of the chunk is counted or written: it goes back to the sync's pending chunks, and is sent whole on
      // resume (leads are upserts; activities, told the chunk sent before, are checked against what landed). Not
      // retried: the sync decides when it runs again.
      const stopped: StoppedChunk = { sent };
      throw ApplicationFailure.create({
        type: FailureType.syncPaused,
        message: `the sync was paused before rows ${task.chunk.firstRow}-${task.chunk.firstRow + task.chunk.rows - 1} were all sent`,
        nonRetryable: true,
        details: [stopped],
      });
    }
    if (err instanceof RateLimitedError) await heardRefusal(context, task, err);
    throw boundedFailure(toActivityFailure(err, context.redactor), activityInfo().attempt);
  } finally {
    pause.stop();
  }
}

/** The chunk's rows that the task names, all when it names none: a repair sends again only the rows that drifted. */
function only(rows: readonly number[] | undefined, read: ChunkRows): ChunkRows {
  if (rows === undefined) return read;
  const named = new Set(rows);
  return {
    ...read,
    leads: read.leads.filter((lead) => named.has(lead.row)),
    rejects: read.rejects.filter((reject) => reject.row !== undefined && named.has(reject.row)),
    rows: named.size,
  };
}

/**
 * Reads a chunk's rows (a chunk of the retry set by key, from the source as it is now) and, for a converging sync,
 * leaves out those not to send (see leaveOutUnchanged).
 */
async function readChunk(
  context: ActivityContext,
  scope: string | undefined,
  source: Source,
  connected: ConnectedAccount,
  task: ChunkTask,
): Promise<{ read: ChunkRows; unchanged: number; retryKeys: string[] }> {
  const records = task.records ?? 'leads';
  if (scope === undefined) {
    if (task.retry)
      throw new ConfigError('a chunk of the retry set needs the config to name a row store (convergence)');
    const read = await readChunkRows(source, connected.vendor, task.mapping, task.chunk, records);
    return { read, unchanged: 0, retryKeys: [] };
  }
  return context.withRowStore(async (store) => {
    const converging = { store, scope };
    const retry = task.retry ? await readRetryChunk(converging, source, task.chunk) : undefined;
    const read = await readChunkRows(source, connected.vendor, task.mapping, task.chunk, records, retry?.rows);
    return { ...(await leaveOutUnchanged(converging, read, task.retry === true)), retryKeys: retry?.keys ?? [] };
  });
}

/**
 * Tells the sync the vendor refused a call for rate, so a person watching it sees what it waits for and until when
 * (the call pacer has told the governor, with the call's grant). Best effort: the refused call is sent again at a
 * slot after the vendor's time whether or not the sync heard.
 */
async function heardRefusal(context: ActivityContext, task: ChunkTask, err: RateLimitedError): Promise<void> {
  chunkMetrics(context, task).rateLimited(err.retryAfterMs);
  Context.current().log.info("the vendor refused a call for rate: the lane waits the vendor's time", {
    ...chunkFields(task),
    retryAfterMs: err.retryAfterMs,
    ...(err.window ? { vendorWindow: err.window } : {}),
  });
  await context.deps.client.workflow
    .getHandle(task.syncId)
    .signal(backoffSignal, { lane: task.lane, until: Date.now() + err.retryAfterMs })
    .catch(() => undefined);
}

/**
 * The rows per call of the task's lane, from this worker's config. The task came from a workflow, whose state anyone
 * who can start one can write: a chunk runs only by its own lane's route (a queue whose rate limit is the lane's
 * ceiling, or the shared queue of its lane kind with its lane's fairness key), and never sends larger calls than the
 * lane takes.
 */
function laneOf(context: ActivityContext, account: Account, task: ChunkTask): number {
  const lane = recordLanes(account.effectivePlan, task.records ?? 'leads')[task.lane];
  const route = laneRoute(context.deps, account, task.lane);
  if (!lane || !cameByRoute(context.deps, route, activityInfo())) {
    const key = route.priority ? ` with fairness key ${route.priority.fairnessKey}` : '';
    throw new ConfigError(
      `a chunk of account ${account.name}, lane ${task.lane}, runs only on task queue ${route.taskQueue}${key}`,
    );
  }
  return Math.min(task.rowsPerCall ?? lane.rowsPerCall, lane.rowsPerCall);
}

/** Vendor calls a chunk made, and those it made again in place after a transient fault. */
interface Calls {
  made: number;
  retried: number;
  onCall: () => void;
  /** A call's slot came and it goes out. */
  onSent: () => void;
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
 * slots come in one reservation. Faults are handled call by call (see send); the first call that fails the chunk
 * (refused keys, a rate limit that outlasts its attempts in place) stops those still waiting for their slot, and the
 * chunk is retried whole: leads are upserted by email, activities checked against what the lead already has.
 */
async function sendCalls(sending: Sending, leads: VendorRecord[]): Promise<RowOutcome[]> {
  const { task, signal } = sending;
  const size = Math.min(task.rowsPerCall ?? leads.length, statedMaximum(sending) ?? Infinity);
  const batches: VendorRecord[][] = [];
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
 * One vendor call for the whole batch; when it fails, the batch is retried in place, split or rejected as
 * afterFailedCall decides, so that the rows that can land land. A call refused for rate is sent again alone at a
 * slot after the vendor's time (a refused call wrote nothing, and the chunk's calls that landed are not sent twice),
 * up to RATE_LIMITED_CALL_ATTEMPTS times and for waits up to RATE_LIMITED_WAIT_IN_PLACE_MS. Past them, and on refused
 * keys or an answer the vendor never gives, the chunk's attempt fails, for Temporal's retry at the vendor's time or
 * for the sync to fail saying what to fix. `resent`: this batch may have landed before (a lost answer, an earlier
 * attempt, or an earlier activity of the chunk stopped by a pause), which activities, not idempotent at the vendor,
 * check before posting again.
 */
async function send(
  sending: Sending,
  leads: VendorRecord[],
  resent = activityInfo().attempt > 1 || sending.task.sentBefore === true,
): Promise<RowOutcome[]> {
  if (leads.length === 0) return [];
  for (let attempt = 1, refusedForRate = 0; ;) {
    try {
      return await callOnce(sending, leads, resent || attempt > 1);
    } catch (err) {
      if (
        err instanceof RateLimitedError &&
        err.retryAfterMs <= RATE_LIMITED_WAIT_IN_PLACE_MS &&
        ++refusedForRate < RATE_LIMITED_CALL_ATTEMPTS
      ) {
        sending.calls.retried++;
        await heardRefusal(sending.context, sending.task, err);
        // The governor holds the lane's next slots past the vendor's time too, unless the report was lost.
        await sleep(err.retryAfterMs, undefined, { signal: sending.signal });
        continue;
      }
      const next = afterFailedCall(err, leads.length, attempt, sending.refusals.splitCalls);
      logFailedCall(sending.task, err, leads.length, attempt, next);
      switch (next.step) {
        case 'reject':
          return leads.map((lead) => ({ row: lead.row, status: 'rejected', reason: next.reason }));
        case 'retry':
          attempt++;
          sending.calls.retried++;
          await sleep(next.pauseMs, undefined, { signal: sending.signal });
          continue;
        case 'split':
          if (next.stated !== undefined) learnMaximum(sending, next.stated);
          sending.refusals.splitCalls -= next.splitCalls;
          if (next.afterFault) sending.calls.retried++;
          return sendInParts(sending, leads, next.size, next.afterFault || resent || attempt > 1);
        case 'fail':
          throw err;
      }
    }
  }
}

/** The chunk's fields on every decision line: which sync, account, lane and rows it is about. */
function chunkFields(task: ChunkTask): Record<string, unknown> {
  return { syncId: task.syncId, account: task.account, lane: task.lane, chunkFirstRow: task.chunk.firstRow };
}

/** Says what a failed call made the chunk do: an operator reading the log sees why rows were rejected or split. */
function logFailedCall(task: ChunkTask, err: unknown, rows: number, attempt: number, next: NextStep): void {
  const fields = { ...chunkFields(task), rows, attempt, error: err instanceof Error ? err.message : String(err) };
  // The worker's redacting logger, with the activity's own fields (workflow, attempt).
  const log = Context.current().log;
  switch (next.step) {
    case 'reject':
      return log.info('the vendor refused rows: they go to the rejects report', { ...fields, reason: next.reason });
    case 'retry':
      return log.debug('a vendor call failed: sending it again in place', { ...fields, pauseMs: next.pauseMs });
    case 'split':
      return log.info('a vendor call failed for its size or a fault: splitting it', {
        ...fields,
        size: next.size,
        ...(next.stated !== undefined ? { statedMaximum: next.stated } : {}),
      });
    case 'fail':
      return log.warn("a vendor call failed: the chunk's attempt fails", fields);
  }
}

async function sendInParts(
  sending: Sending,
  leads: VendorRecord[],
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
async function callOnce(sending: Sending, leads: VendorRecord[], resent: boolean): Promise<RowOutcome[]> {
  const { context, connected, task, calls, refusals, signal } = sending;
  const { account, client } = connected;
  if (task.records === 'activities' && client.postActivities) {
    // Activities may take more than one call (a lookup, then the post): each is paced and counted.
    const pace: Pace = (call, lane = task.lane) => {
      calls.made++;
      calls.onCall();
      return context.governor.paced(
        account,
        lane,
        task.share,
        () => {
          calls.onSent();
          return call();
        },
        { signal, ...(task.priority ? { priority: task.priority } : {}) },
      );
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
      calls.onSent();
      return client.upsertLeads(task.lane, leads, task.target);
    },
    { signal, quotaOf: (answer) => answer.quota, ...(task.priority ? { priority: task.priority } : {}) },
  );
  for (const { count, reason } of result.unattributed ?? []) {
    refusals.unnamed.set(reason, (refusals.unnamed.get(reason) ?? 0) + count);
  }
  return result.outcomes;
}
