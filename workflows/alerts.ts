import {
  ApplicationFailure,
  ParentClosePolicy,
  log,
  patched,
  proxyActivities,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { SyncActivities } from '../activities/index.js';
import { ALERT_DELIVERY_ATTEMPTS, AlertEventSchema, type AlertEvent } from '../src/core/alerts.js';
import { NON_RETRYABLE } from '../src/core/failures.js';
import { parseArgument } from './arguments.js';

/** Reading the worker's config: no I/O, a few attempts for a worker that went away. */
const config = proxyActivities<SyncActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: [...NON_RETRYABLE] },
});

/**
 * A delivery's attempts are bounded, and so is each (10 s for the receiver, the activity's own timeout): a dead
 * receiver costs about 15 s of pauses and 5 attempts, then the delivery is given up and counted.
 */
const delivery = proxyActivities<SyncActivities>({
  startToCloseTimeout: '15 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '10 seconds',
    maximumAttempts: ALERT_DELIVERY_ATTEMPTS,
    nonRetryableErrorTypes: [...NON_RETRYABLE, 'AlertRefused'],
  },
});

/**
 * Delivers one alert to every target the worker's config has for its trigger, each on its own retries. It fails,
 * naming them, when a target could not be reached: the Web UI shows the alerts that went nowhere.
 */
export async function leadsyncAlert(raw: AlertEvent): Promise<void> {
  const event = parseArgument('alert', AlertEventSchema, raw);
  const targets = await config.alertTargets(event.trigger);
  const outcomes = await Promise.allSettled(targets.map((target) => delivery.deliverAlert({ event, target })));
  const failed = targets.filter((_, i) => outcomes[i]!.status === 'rejected');
  if (failed.length > 0) {
    throw ApplicationFailure.nonRetryable(`the alert was not delivered to ${failed.join(', ')}`, 'AlertNotDelivered');
  }
}

/** Syncs and schedules that end since this patch raise alerts; older histories replay without the child. */
const ALERTS = 'alerts';

/**
 * Starts each alert's delivery as a child the workflow does not wait for (ABANDON: it outlives its parent), so a
 * slow or dead receiver never holds a sync. Only the start is awaited, which the server confirms at once: a child
 * not yet started when its parent closes might never start. A child that cannot start is logged, never thrown.
 * Events the workflow could not judge (`judged` false: it has no plan's triggers) first ask the worker's config, so
 * that a config without alerts starts no alert workflow.
 */
export async function raiseAlerts(events: readonly AlertEvent[], judged = true): Promise<void> {
  if (events.length === 0 || !patched(ALERTS)) return;
  const raised = judged ? events : await configured(events);
  const { workflowId, runId } = workflowInfo();
  await Promise.all(
    raised.map((event) =>
      startChild(leadsyncAlert, {
        args: [event],
        // The run's id too: a sync that reuses a closed sync's id must not meet the older alert still retrying.
        workflowId: `${workflowId}-alert-${event.trigger}-${runId}`,
        parentClosePolicy: ParentClosePolicy.ABANDON,
        staticSummary: `Alert: ${event.trigger} of ${event.syncId}`,
      }).catch((err: unknown) => notRaised(event, err)),
    ),
  );
}

/** The events the worker's config has a target for; one it could not be asked about is logged and dropped. */
async function configured(events: readonly AlertEvent[]): Promise<AlertEvent[]> {
  const wanted = await Promise.all(
    events.map((event) =>
      config.alertTargets(event.trigger).then(
        (targets) => targets.length > 0,
        (err: unknown) => notRaised(event, err) ?? false,
      ),
    ),
  );
  return events.filter((_, i) => wanted[i]);
}

function notRaised(event: AlertEvent, err: unknown): undefined {
  log.warn('an alert could not be raised', {
    trigger: event.trigger,
    syncId: event.syncId,
    error: err instanceof Error ? err.message : String(err),
  });
  return undefined;
}

/** The message of what ended a workflow: the innermost cause's (an activity's or a child's own failure). */
export function failureMessage(err: unknown): string {
  let inner = err;
  while (inner instanceof Error && inner.cause instanceof Error) inner = inner.cause;
  return inner instanceof Error ? inner.message : String(err);
}
