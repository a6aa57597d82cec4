import { setMaxListeners } from 'node:events';
import { Context, activityInfo } from '@temporalio/activity';
import type { Account } from '../src/config/accounts.js';
import { ConfigError } from '../src/config/errors.js';
import { laneTaskQueue } from '../src/governance/lanes.js';
import { laneMetrics } from '../src/observability/metrics.js';
import { recordLanes } from '../src/sync/record-lanes.js';
import { readChunkRows } from '../src/sync/chunk-rows.js';
import type { ChunkResult, ChunkTask } from '../src/sync/contract.js';
import { BatchTooLargeError, RateLimitedError } from '../src/vendors/errors.js';
import type { LeadRecord, Pace, RowOutcome } from '../src/vendors/types.js';
import type { ActivityContext, ConnectedAccount } from './context.js';
import { toActivityFailure } from './failures.js';
import { withHeartbeats } from './heartbeat.js';
import { backoffSignal } from '../workflows/sync.js';

/**
 * Reads one chunk by its range, maps and checks its rows, and sends the good ones in vendor calls of the lane's size
 * (one, below ten calls a second), each at a slot the account governor grants. Rows that fail a check, or that the vendor refuses, go to the chunk's rejects (its file,
 * or its rows of the rejects table); the rest of the chunk goes on. A retry reads the same rows again: upserts by
 * email make a resend harmless, and the retry's rejects replace the earlier attempt's.
 */
export async function pushChunk(context: ActivityContext, task: ChunkTask): Promise<ChunkResult> {
  try {
    return await withHeartbeats(async (signal) => {
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
      const calls = { made: 0, onCall: () => metrics.request() };
      const outcomes = await sendCalls(context, connected, { ...task, rowsPerCall }, leads, calls, signal);
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected')
          rejects.push({ row: outcome.row, field: outcome.field, reason: outcome.reason });
      }
      await context.withRejectsSink((sink) => sink.writeChunk(task.syncId, task.chunk.firstRow, rejects));
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
