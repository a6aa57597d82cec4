import { Context, activityInfo } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { resolveAlertTarget } from '../src/config/alerts.js';
import {
  ALERT_DELIVERY_ATTEMPTS,
  AlertEventSchema,
  triggerEnabled,
  type AlertEvent,
  type AlertTrigger,
} from '../src/core/alerts.js';
import { ConfigError } from '../src/core/errors.js';
import { alertMetrics } from '../src/observability/metrics.js';
import { USER_AGENT } from '../src/vendors/user-agent.js';
import { slackRequest, webhookRequest } from './alert-bodies.js';
import type { ActivityContext } from './context.js';

/** One alert to one configured target, named: the URL and secret stay in the worker's config and environment. */
export const AlertDeliverySchema = z.object({ event: AlertEventSchema, target: z.string().min(1) }).strict();
export type AlertDelivery = z.infer<typeof AlertDeliverySchema>;

/** A receiver that takes longer than this has failed the attempt: the next one comes after the retry's pause. */
const DELIVERY_TIMEOUT_MS = 10_000;

/** The failure of an attempt a receiver refused for good (a 4xx other than a timeout or a rate limit, a redirect). */
const ALERT_REFUSED = 'AlertRefused';

/** The targets an event goes to: every configured target, when the worker's config has the trigger on. */
export function alertTargets(context: ActivityContext, trigger: AlertTrigger): string[] {
  const alerts = context.deps.config.alerts;
  return alerts && triggerEnabled(alerts.triggers, trigger) ? Object.keys(alerts.targets) : [];
}

/**
 * Sends one alert to one target. A failed attempt is logged and thrown for the retry policy to try again; the last
 * one, or one the receiver refused for good, is counted as a failed delivery. Nothing here reaches the sync: the
 * alert runs in a workflow of its own that the sync does not wait for.
 */
export async function deliverAlert(context: ActivityContext, { event, target: name }: AlertDelivery): Promise<void> {
  const { attempt, workflowExecution } = activityInfo();
  const metrics = alertMetrics(Context.current().metricMeter, { target: name, trigger: event.trigger });
  try {
    const alerts = context.deps.config.alerts;
    const target = alerts && Object.hasOwn(alerts.targets, name) ? alerts.targets[name] : undefined;
    if (!target) throw new ConfigError(`no alert target '${name}' in the worker's config`);
    const { url, secret } = resolveAlertTarget(name, target, context.deps.env ?? process.env);
    const request =
      target.kind === 'webhook'
        ? webhookRequest(event, secret!, `${workflowExecution?.workflowId ?? event.syncId}/${name}`, Date.now())
        : slackRequest(event);
    // A timer of its own, not AbortSignal.timeout: combined by AbortSignal.any and held by nothing else, that signal
    // can be collected as garbage on Node 20 and never fire, and a receiver that never answers would hold the attempt.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), DELIVERY_TIMEOUT_MS);
    const response = await fetch(url, {
      method: 'POST',
      headers: { ...request.headers, 'user-agent': USER_AGENT },
      body: request.body,
      // A redirect would take the alert where the config did not say.
      redirect: 'manual',
      signal: AbortSignal.any([deadline.signal, Context.current().cancellationSignal]),
    }).finally(() => clearTimeout(timer));
    await response.body?.cancel();
    if (!response.ok) throw refusal(response.status);
    metrics.delivered();
  } catch (err) {
    const failure = deliveryFailure(err, context);
    const final = failure.nonRetryable || attempt >= ALERT_DELIVERY_ATTEMPTS;
    Context.current().log.warn(
      final ? 'an alert could not be delivered: no attempt left' : 'an alert delivery failed: it is tried again',
      { ...alertFields(event), target: name, attempt, error: failure.message },
    );
    if (final) metrics.failed();
    throw failure;
  }
}

function refusal(status: number): ApplicationFailure {
  const retryable = status >= 500 || status === 408 || status === 425 || status === 429;
  const message = `the receiver answered HTTP ${status}`;
  return retryable ? ApplicationFailure.retryable(message, 'AlertNotAccepted') : nonRetryableRefusal(message);
}

function nonRetryableRefusal(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, ALERT_REFUSED);
}

/** What an attempt's failure says, through the worker's redactor: a fetch error may quote a Slack URL. */
function deliveryFailure(err: unknown, context: ActivityContext): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
  const message = context.redactor.redact(`${err instanceof Error ? err.message : String(err)}${cause}`);
  return err instanceof ConfigError ? nonRetryableRefusal(message) : ApplicationFailure.retryable(message, 'Error');
}

function alertFields(event: AlertEvent): Record<string, unknown> {
  return { trigger: event.trigger, syncId: event.syncId, account: event.account };
}
