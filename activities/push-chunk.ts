import { setMaxListeners } from 'node:events';
import { Context, activityInfo } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { laneMetrics } from '../src/observability/metrics.js';
import { readChunkRows } from '../src/sync/chunk-rows.js';
import type { ChunkResult, ChunkTask } from '../src/sync/contract.js';
import { SYNC_PAUSED } from '../src/sync/paused.js';
import { BatchTooLargeError, RateLimitedError } from '../src/vendors/errors.js';
import type { LeadRecord, Pace, RowOutcome } from '../src/vendors/types.js';
import type { ActivityContext, ConnectedAccount } from './context.js';
import { toActivityFailure } from './failures.js';
import { withHeartbeats } from './heartbeat.js';
import { backoffSignal } from '../workflows/sync.js';

/**
 * Reads one chunk by its range, maps and checks its rows, and sends the good ones in vendor calls of the lane's size
 * (about a window's worth of calls, src/sync/chunk-size.ts), each at a slot the account governor grants. Calls not yet
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
      const { leads, rejects, rows } = await context.withSource(task.source, (source) =>
        readChunkRows(source, connected.vendor, task.mapping, task.chunk, task.records ?? 'leads'),
      );
      const calls = { made: 0, onCall: () => metrics.request() };
      const outcomes = await sendCalls(context, connected, task, leads, calls, signal);
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected')
          rejects.push({ row: outcome.row, field: outcome.field, reason: outcome.reason });
      }
      await context.withRejectsSink(task, (sink) => sink.writeChunk(task.syncId, task.chunk.firstRow, rejects));
      const accepted = outcomes.filter((o) => o.status === 'accepted').length;
      // A row with several bad fields has a line per field in the report, but is one rejected row.
      const rejected = new Set(rejects.map((reject) => reject.row)).size;
      metrics.accepted(accepted);
      metrics.rejected(rejected);
      return {
        rows,
        accepted,
        rejected,
        calls: calls.made,
        retries: activityInfo().attempt - 1,
      };
    });
  } catch (err) {
    if (pause.signal.aborted) {
      // Nothing of the chunk is counted or written: it goes back to the sync's pending chunks, and is sent whole on
      // resume (its calls already sent are upserts). Not retried: the sync decides when it runs again.
      throw ApplicationFailure.create({
        type: SYNC_PAUSED,
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
    throw toActivityFailure(err, context.redactor);
  } finally {
    pause.stop();
  }
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
 * The chunk's rows in calls of the lane's size, made at once so that their slots come in one reservation. The first
 * call that fails stops those still waiting for their slot, and the chunk is retried whole: a resend is an upsert.
 */
async function sendCalls(
  context: ActivityContext,
  connected: ConnectedAccount,
  task: ChunkTask,
  leads: LeadRecord[],
  calls: { made: number; onCall: () => void },
  signal: AbortSignal,
): Promise<RowOutcome[]> {
  const size = task.rowsPerCall ?? leads.length;
  const batches: LeadRecord[][] = [];
  for (let i = 0; i < leads.length; i += size) batches.push(leads.slice(i, i + size));
  const stop = new AbortController();
  const stopped = AbortSignal.any([signal, stop.signal]);
  // Each call waiting for its slot listens for the stop: a chunk of many calls is not a listener leak.
  setMaxListeners(batches.length + 10, stopped);
  let failure: { err: unknown } | undefined;
  const sent = await Promise.allSettled(
    batches.map((batch) =>
      send(context, connected, task, batch, calls, stopped).catch((err: unknown) => {
        failure ??= { err };
        stop.abort();
        throw err;
      }),
    ),
  );
  if (failure) throw failure.err;
  return sent.flatMap((result) => (result.status === 'fulfilled' ? result.value : []));
}

/** One paced call for the whole batch; halves (or the vendor's stated maximum) when the vendor says it is too large. */
async function send(
  context: ActivityContext,
  connected: ConnectedAccount,
  task: ChunkTask,
  leads: LeadRecord[],
  calls: { made: number; onCall: () => void },
  signal: AbortSignal,
): Promise<RowOutcome[]> {
  if (leads.length === 0) return [];
  const { account, client } = connected;
  try {
    if (task.records === 'activities' && client.postActivities) {
      // Activities may take more than one call (a lookup, then the post): each is paced and counted.
      const pace: Pace = (call, lane = task.lane) => {
        calls.made++;
        calls.onCall();
        return context.governor.paced(account, lane, task.share, call, { signal });
      };
      return await client.postActivities(task.lane, leads, pace, { retried: activityInfo().attempt > 1 });
    }
    calls.made++;
    calls.onCall();
    const result = await context.governor.paced(
      account,
      task.lane,
      task.share,
      () => client.upsertLeads(task.lane, leads, task.target),
      { signal, quotaOf: (answer) => answer.quota },
    );
    return result.outcomes;
  } catch (err) {
    if (!(err instanceof BatchTooLargeError)) throw err;
    if (leads.length === 1) {
      return [
        { row: leads[0]!.row, status: 'rejected', reason: `the vendor refused the row as too large: ${err.message}` },
      ];
    }
    const size = Math.min(err.maxRows ?? Infinity, Math.ceil(leads.length / 2));
    const outcomes: RowOutcome[] = [];
    for (let i = 0; i < leads.length; i += size) {
      outcomes.push(...(await send(context, connected, task, leads.slice(i, i + size), calls, signal)));
    }
    return outcomes;
  }
}
