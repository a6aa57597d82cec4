import {
  CancellationScope,
  ContinueAsNew,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SyncActivities } from '../activities/index.js';
import {
  CarriedSchema,
  ChunksPerRunSchema,
  SyncInputSchema,
  ZERO_COUNTS,
  type Carried,
  type SyncInput,
  type SyncRequest,
  type SyncResult,
} from '../src/core/contract.js';
import { NON_RETRYABLE } from '../src/core/failures.js';
import { startWatermark } from '../src/core/watermark.js';
import { describeSource } from '../src/core/source-registry.js';
import { LeadsyncAccount, LeadsyncSource, LeadsyncState, LeadsyncVendor } from '../src/core/search-attributes.js';
import { parseArgument } from './arguments.js';
import { SyncRun } from './sync-run.js';
import { failureMessage, raiseAlerts } from './alerts.js';

/** Bounded: a source or rejects store that stays unreachable fails the sync in about two minutes, saying so. */
const control = proxyActivities<SyncActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { maximumInterval: '30 seconds', maximumAttempts: 8, nonRetryableErrorTypes: [...NON_RETRYABLE] },
});

/**
 * Chunk attempts retry at the policy's level without limit, for a rate limit retries at the vendor's time
 * (nextRetryDelay) for as long as it takes; the chunk bounds every other fault itself (activities/chunk-faults.ts:
 * calls retried in place, then split, then the chunk's attempts) and fails non-retryably, which fails the sync. The
 * heartbeat timeout finds a dead worker in seconds.
 */
const chunks = proxyActivities<SyncActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: [...NON_RETRYABLE] },
});

/** Completed chunks per run before continue-as-new keeps the history short, unless the server suggests it sooner. */
const DEFAULT_CHUNKS_PER_RUN = 2_000;

/**
 * Pushes every row of a source into a vendor account at the plan's ceiling: prepare (validate everything, before any
 * write), then cut the source into chunks by reference and keep each lane's chunks in flight until the source is
 * drained, continuing as new to keep the history bounded, and finally merge the rejects report.
 */
export async function leadSync(
  input: SyncInput,
  carried?: Carried,
  chunksPerRun = DEFAULT_CHUNKS_PER_RUN,
): Promise<SyncResult> {
  const request = parseInput(input);
  const carry =
    carried === undefined || carried === null ? undefined : parseArgument('carried', CarriedSchema, carried);
  const perRun = parseArgument('chunksPerRun', ChunksPerRunSchema, chunksPerRun ?? DEFAULT_CHUNKS_PER_RUN);
  const run = new SyncRun(request, { control, chunks });
  run.listen();
  CancellationScope.current().cancelRequested.catch(() => run.cancel());

  // A cancelled sync still lets its chunks in flight finish and writes its rejects report, so the counts stay true.
  return CancellationScope.nonCancellable(async () => {
    try {
      run.begin(carry ?? (await prepare(request)));
      const outcome = await run.pushChunks(perRun);
      if (outcome === 'failed') return await run.fail();
      if (outcome === 'continue') {
        await condition(allHandlersFinished);
        log.info('the sync continues as new', { syncId: workflowInfo().workflowId, account: request.account });
        return continueAsNew<typeof leadSync>(request, run.carry(), perRun);
      }
      run.enter('writing-rejects');
      const rejects = await control.writeRejectsReport(run.rejectsReportRequest());
      const retrySet = await run.retrySet();
      run.enter(outcome === 'cancelled' ? 'cancelled' : 'completed');
      await condition(allHandlersFinished);
      const result = run.result(rejects, retrySet);
      await raiseAlerts(run.endAlerts(result));
      return result;
    } catch (err) {
      if (!(err instanceof ContinueAsNew)) await raiseAlerts(run.failedAlerts(failureMessage(err)), run.planned());
      throw err;
    }
  });
}

function parseInput(input: SyncInput): SyncRequest {
  return parseArgument('sync input', SyncInputSchema, input);
}

async function prepare(request: SyncRequest): Promise<Carried> {
  upsertSearchAttributes([
    { key: LeadsyncAccount, value: request.account },
    { key: LeadsyncSource, value: describeSource(request.source).address },
    { key: LeadsyncState, value: 'preparing' },
  ]);
  const plan = await control.prepareSync(request);
  upsertSearchAttributes([{ key: LeadsyncVendor, value: plan.vendor }]);
  return {
    plan,
    cursor: { position: null, nextRow: 1 },
    scanned: false,
    landed: startWatermark(),
    pending: {},
    counts: { ...ZERO_COUNTS },
    startedAt: Date.now(),
    run: 0,
    paused: false,
    // A converging sync sends its retry set first (workflows/sync-run.ts).
    ...(plan.convergence && plan.convergence.retryRows > 0 ? { retrying: true } : {}),
  };
}
