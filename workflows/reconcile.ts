import { continueAsNew, proxyActivities, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import type { SyncActivities } from '../activities/index.js';
import type { LaneRun } from '../src/core/contract.js';
import { NON_RETRYABLE } from '../src/core/failures.js';
import {
  NO_DRIFT,
  RECONCILE_PRIORITY,
  ReconcileCarriedSchema,
  ReconcileInputSchema,
  describeDrift,
  syncOf,
  type ReconcileCarried,
  type ReconcileInput,
  type ReconcileRequest,
  type ReconcileResult,
} from '../src/core/reconcile.js';
import { START } from '../src/core/source-refs.js';
import { parseArgument } from './arguments.js';
import { chunkPriority } from './chunk-priority.js';

const control = proxyActivities<SyncActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { maximumInterval: '30 seconds', maximumAttempts: 8, nonRetryableErrorTypes: [...NON_RETRYABLE] },
});

/** As a sync's chunks: retried at the policy's level, a rate limit at the vendor's time, for as long as it takes. */
const chunks = proxyActivities<SyncActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: [...NON_RETRYABLE] },
});

/** Rows per chunk, and chunks cut per scan. */
const CHUNK_ROWS = 100;
const CHUNKS_PER_SCAN = 10;
/** Chunks per run before continue-as-new keeps the history short (each takes one or two activities). */
const DEFAULT_CHUNKS_PER_RUN = 500;

/**
 * Compares what the vendor holds with the source, chunk by chunk at the request's share of the plan: prepare as the
 * sync would (everything checked before a call), take a listing vendor's copy of the target's leads, then for each
 * chunk read the vendor's copy of its leads and compare; with repair, the chunk's drifted rows go again through the
 * sync's push, on its lane. The drift report is merged last. One chunk at a time: it is background work.
 */
export async function leadReconcile(
  input: ReconcileInput,
  carried?: ReconcileCarried,
  chunksPerRun = DEFAULT_CHUNKS_PER_RUN,
): Promise<ReconcileResult> {
  const request = parseArgument('reconcile input', ReconcileInputSchema, input);
  const state =
    carried === undefined || carried === null
      ? await prepare(request)
      : parseArgument('carried', ReconcileCarriedSchema, carried);
  const { plan } = state;
  const reconcileId = workflowInfo().workflowId;
  const scope = {
    reconcileId,
    ...(plan.runId ? { runId: plan.runId } : {}),
    account: request.account,
    target: request.target,
    share: request.share,
  };
  const source = { source: request.source, mapping: request.mapping, ...(plan.pin ? { pin: plan.pin } : {}) };
  const details = (phase: string, driftFile?: string) =>
    setCurrentDetails(describeDrift(phase, state.counts, plan.totalRows, driftFile));
  details('running');
  for (let done = 0; ;) {
    if (done >= chunksPerRun || workflowInfo().continueAsNewSuggested) {
      return continueAsNew<typeof leadReconcile>(request, { ...state, run: state.run + 1 }, chunksPerRun);
    }
    const scan = await control.scanChunks({
      source: request.source,
      cursor: state.cursor,
      sizes: Array<number>(CHUNKS_PER_SCAN).fill(CHUNK_ROWS),
      ...(plan.pin ? { pin: plan.pin } : {}),
    });
    for (const chunk of scan.chunks) {
      const drift = await chunks.reconcileChunk({ ...scope, ...source, chunk });
      const counts = state.counts;
      counts.checked += drift.checked;
      counts.missing += drift.missing;
      counts.differing += drift.differing;
      if (request.repair && drift.drifted.length > 0) {
        const lane = repairLane(plan.lanes);
        const pushed = await chunks.pushChunk.executeWithOptions(
          {
            taskQueue: lane.taskQueue,
            ...chunkPriority(lane, RECONCILE_PRIORITY),
            summary: `repair of ${drift.drifted.length} rows from row ${chunk.firstRow}`,
          },
          [
            {
              syncId: reconcileId,
              account: request.account,
              lane: lane.lane,
              records: 'leads',
              ...source,
              target: request.target,
              share: request.share,
              priority: RECONCILE_PRIORITY,
              rowsPerCall: lane.rowsPerCall,
              chunk,
              only: drift.drifted,
              ...(plan.runId ? { runId: plan.runId } : {}),
            },
          ],
        );
        counts.repaired += pushed.accepted;
      }
      details('running');
      done++;
    }
    state.cursor = scan.cursor;
    if (scan.done) break;
  }
  const { driftFile, extra } = await control.writeDrift({ ...scope, ...source });
  state.counts.extra = extra;
  const rejects = request.repair
    ? await control.writeRejectsReport({ syncId: reconcileId, ...(plan.runId ? { runId: plan.runId } : {}) })
    : undefined;
  details('completed', driftFile);
  return {
    ...state.counts,
    totalRows: plan.totalRows,
    driftFile,
    ...(rejects ? { rejects } : {}),
    seconds: (Date.now() - state.startedAt) / 1000,
  };
}

async function prepare(request: ReconcileRequest): Promise<ReconcileCarried> {
  const plan = await control.prepareSync(syncOf(request));
  await control.copyVendorLeads({
    reconcileId: workflowInfo().workflowId,
    ...(plan.runId ? { runId: plan.runId } : {}),
    account: request.account,
    target: request.target,
    share: request.share,
  });
  return { plan, cursor: START, counts: { ...NO_DRIFT }, startedAt: Date.now(), run: 0 };
}

/** The lane a repair sends on: the one with the most rows a call (LeadSquared's bulk lane), as a sync's bulk would. */
function repairLane(lanes: readonly LaneRun[]): LaneRun {
  return lanes.reduce((best, lane) => (lane.rowsPerCall > best.rowsPerCall ? lane : best));
}
