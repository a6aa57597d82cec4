import {
  ApplicationFailure,
  ParentClosePolicy,
  executeChild,
  isCancellation,
  workflowInfo,
} from '@temporalio/workflow';
import { SyncInputSchema, type SyncInput, type SyncRequest, type SyncResult } from '../src/core/contract.js';
import { HandedOnSchema } from '../src/core/watermark.js';
import { SOURCE_REFS } from '../src/core/source-registry.js';
import { FailureType } from '../src/core/failures.js';
import { schedulePausedAlert } from '../src/core/alerts.js';
import { TemporalScheduledById } from '../src/core/search-attributes.js';
import { parseArgument } from './arguments.js';
import { failureMessage, raiseAlerts } from './alerts.js';
import { leadSync } from './sync.js';

/**
 * One run of a recurring sync, the action of a Temporal Schedule. The schedule hands each run the result of the
 * last run that succeeded (workflowInfo().lastResult), so an incremental source resumes after the last row that
 * landed; a failed or skipped run hands nothing on, and the next one starts where the last good one stopped.
 * The sync itself is a child, so its continue-as-new runs stay one workflow in the schedule's recent actions. A run
 * that fails pauses its schedule (pauseOnFailure), and says so first: the alerts' `schedule-paused`.
 */
export async function scheduledSync(raw: SyncInput): Promise<SyncResult> {
  const input = parseArgument('sync input', SyncInputSchema, raw);
  try {
    return await runOnce(input);
  } catch (err) {
    if (!isCancellation(err)) {
      const info = workflowInfo();
      await raiseAlerts(
        [
          schedulePausedAlert({
            scheduleId: info.typedSearchAttributes.get(TemporalScheduledById) ?? info.workflowId,
            syncId: info.workflowId,
            account: input.account,
            at: new Date().toISOString(),
            failure: failureMessage(err),
          }),
        ],
        false,
      );
    }
    throw err;
  }
}

async function runOnce(input: SyncRequest): Promise<SyncResult> {
  const info = workflowInfo();
  const previous = HandedOnSchema.safeParse(info.lastResult ?? {});
  if (!previous.success) {
    // Starting over would push every row again: a person decides that, not a guess.
    throw ApplicationFailure.nonRetryable(
      `the previous run's result has no readable nextSince: ${previous.error.issues[0]?.message}`,
      FailureType.config,
    );
  }
  const since = previous.data.nextSince;
  const source = since ? SOURCE_REFS.resumeFrom(input.source, since) : input.source;
  return executeChild(leadSync, {
    args: [{ ...input, source }],
    workflowId: `${info.workflowId}-sync`,
    // A cancelled or terminated run lets its chunks in flight finish and its rejects report be written.
    parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
  });
}
