// Workflow-safe: zod only. When a sync or a schedule calls for someone's attention, and what it tells them. The
// workflow decides from its own counts and the thresholds its plan carries; only the event goes into history, never
// a receiver's URL or secret (the delivery activity reads those from the worker's config).
import { z } from 'zod';

export const AlertTriggerSchema = z.enum(['sync-failed', 'schedule-paused', 'rejects', 'slow-run', 'rows-stuck']);
export type AlertTrigger = z.infer<typeof AlertTriggerSchema>;

/**
 * Which triggers fire, and their thresholds: the `alerts.triggers` of the config, and what a sync's plan carries.
 * Failures and stuck rows are on unless turned off; the thresholds only when given.
 */
export const AlertTriggersSchema = z
  .object({
    syncFailed: z.boolean().default(true),
    /** A scheduled run failed: leadsync's schedules pause on a failure (src/api/schedules.ts) until unpaused. */
    schedulePaused: z.boolean().default(true),
    /** Rows the vendor refused (named or not), at least `rows` of them or at least `share` of the rows read. */
    rejects: z
      .object({
        rows: z.number().int().positive().optional(),
        share: z.number().gt(0, 'share must be above 0').max(1, 'share is at most 1 (every row read)').optional(),
      })
      .strict()
      .refine((rejects) => rejects.rows !== undefined || rejects.share !== undefined, {
        message: 'give rows (a count), share (of the rows read) or both',
      })
      .optional(),
    /**
     * A completed sync that took more than `times` the time the plan needs for the rows it read. Syncs shorter than
     * `minSeconds` never count: a few rows take a second or two of preparing whatever the plan.
     */
    slowRun: z
      .object({
        times: z.number().gt(0, 'times must be above 0'),
        minSeconds: z.number().min(0).default(60),
      })
      .strict()
      .optional(),
    /** Rows the retry set still holds after the runs it gives them (SyncResult.retrySet.stuckRows). */
    rowsStuck: z.boolean().default(true),
  })
  .strict();
export type AlertTriggers = z.infer<typeof AlertTriggersSchema>;

const CountSchema = z.number().int().nonnegative();

/** What a sync reports of the rows it could not land, run after run (src/core/contract.ts, SyncResult.retrySet). */
const RetrySetSchema = z
  .object({ size: CountSchema, stuckRows: CountSchema, oldestFailedAt: z.string().max(64).optional() })
  .strict();

/** What an alert says: the trigger, whose sync, and the figures that passed the threshold. */
export const AlertEventSchema = z
  .object({
    trigger: AlertTriggerSchema,
    /** The sync's workflow id (for a paused schedule: the failed run's). */
    syncId: z.string().min(1).max(1000),
    account: z.string().min(1).max(200),
    scheduleId: z.string().min(1).max(1000).optional(),
    /** When the event happened (workflow time), ISO 8601. */
    at: z.iso.datetime(),
    counts: z
      .object({ read: CountSchema, accepted: CountSchema, rejected: CountSchema, unattributed: CountSchema })
      .strict()
      .optional(),
    totalRows: CountSchema.optional(),
    seconds: z.number().nonnegative().optional(),
    /** The seconds the plan needs for the rows read, at the sync's share. */
    estimateSeconds: z.number().nonnegative().optional(),
    /** The thresholds of the trigger that fired. */
    threshold: z.record(z.string(), z.number()).optional(),
    /** What failed, as the workflow's failure says it (already redacted by the activities). */
    failure: z.string().max(2000).optional(),
    retrySet: RetrySetSchema.optional(),
  })
  .strict();
export type AlertEvent = z.infer<typeof AlertEventSchema>;

/** What a sync that ended with a result is judged by. */
export interface SyncEnd {
  syncId: string;
  account: string;
  at: string;
  counts: { read: number; accepted: number; rejected: number; unattributed: number };
  totalRows: number;
  seconds: number;
  cancelled: boolean;
  /** The plan's rows per second at the sync's share, as the progress line shows it. */
  ceilingRowsPerSecond: number;
  retrySet?: z.infer<typeof RetrySetSchema> | undefined;
}

/** The alerts a sync that ended with a result raises: rejects over a threshold, a slow run, stuck rows. */
export function syncEndAlerts(triggers: AlertTriggers | undefined, end: SyncEnd): AlertEvent[] {
  if (!triggers) return [];
  const base = {
    syncId: end.syncId,
    account: end.account,
    at: end.at,
    counts: end.counts,
    totalRows: end.totalRows,
    seconds: end.seconds,
  };
  const events: AlertEvent[] = [];
  const refused = end.counts.rejected + end.counts.unattributed;
  const { rejects, slowRun } = triggers;
  if (
    rejects &&
    refused > 0 &&
    ((rejects.rows !== undefined && refused >= rejects.rows) ||
      (rejects.share !== undefined && refused >= rejects.share * end.counts.read))
  ) {
    events.push({ trigger: 'rejects', ...base, threshold: { ...rejects } });
  }
  const estimateSeconds = end.counts.read / end.ceilingRowsPerSecond;
  if (
    slowRun &&
    !end.cancelled &&
    end.counts.read > 0 &&
    end.seconds >= slowRun.minSeconds &&
    end.seconds > slowRun.times * estimateSeconds
  ) {
    events.push({ trigger: 'slow-run', ...base, estimateSeconds, threshold: { ...slowRun } });
  }
  if (triggers.rowsStuck && end.retrySet && end.retrySet.stuckRows > 0) {
    events.push({ trigger: 'rows-stuck', ...base, retrySet: end.retrySet });
  }
  return events;
}

/** What a failure tells: its message, cut to what an alert carries. */
function failureText(message: string): string {
  return message.length > 2000 ? `${message.slice(0, 1999)}…` : message;
}

/**
 * A failed sync's alert, by the triggers of its plan (none when the config had no alerts). A sync that failed before
 * it had a plan (preparing it failed) cannot tell: the worker's config decides (workflows/alerts.ts, raiseAlerts).
 */
export function syncFailedAlerts(
  plan: { alerts?: AlertTriggers | undefined } | undefined,
  failed: { syncId: string; account: string; at: string; failure: string },
): AlertEvent[] {
  if (plan && !plan.alerts?.syncFailed) return [];
  return [{ trigger: 'sync-failed', ...failed, failure: failureText(failed.failure) }];
}

/**
 * A scheduled run failed, which pauses its schedule. A schedule's run cannot know the config's triggers: the worker's
 * config decides (workflows/alerts.ts, raiseAlerts).
 */
export function schedulePausedAlert(paused: {
  scheduleId: string;
  syncId: string;
  account: string;
  at: string;
  failure: string;
}): AlertEvent {
  return { trigger: 'schedule-paused', ...paused, failure: failureText(paused.failure) };
}

/** Whether the config's triggers let an event through: asked before an unjudged event is raised, and at delivery. */
export function triggerEnabled(triggers: AlertTriggers, trigger: AlertTrigger): boolean {
  switch (trigger) {
    case 'sync-failed':
      return triggers.syncFailed;
    case 'schedule-paused':
      return triggers.schedulePaused;
    case 'rejects':
      return triggers.rejects !== undefined;
    case 'slow-run':
      return triggers.slowRun !== undefined;
    case 'rows-stuck':
      return triggers.rowsStuck;
  }
}

/** One line for a person: what happened, to which sync, with the figures that matter. */
export function alertSummary(event: AlertEvent): string {
  const sync = `sync ${event.syncId} into ${event.account}`;
  const counts = event.counts;
  switch (event.trigger) {
    case 'sync-failed':
      return `leadsync: ${sync} failed: ${event.failure ?? 'no reason given'}`;
    case 'schedule-paused':
      return (
        `leadsync: schedule ${event.scheduleId ?? '?'} is paused: its run ${event.syncId} into ${event.account} ` +
        `failed: ${event.failure ?? 'no reason given'}`
      );
    case 'rejects': {
      const refused = (counts?.rejected ?? 0) + (counts?.unattributed ?? 0);
      const read = counts?.read ?? 0;
      const percent = read > 0 ? ` (${Math.round((100 * refused) / read)}%)` : '';
      return `leadsync: ${sync} had ${refused} of ${read} rows refused${percent}`;
    }
    case 'slow-run': {
      const seconds = event.seconds ?? 0;
      const estimate = event.estimateSeconds ?? 0;
      const times = estimate > 0 ? `, ${(seconds / estimate).toFixed(1)} times` : '';
      return (
        `leadsync: ${sync} took ${seconds.toFixed(1)} s for ${counts?.read ?? 0} rows${times} ` +
        `the ${estimate.toFixed(1)} s the plan needs`
      );
    }
    case 'rows-stuck': {
      const oldest = event.retrySet?.oldestFailedAt;
      return (
        `leadsync: ${event.retrySet?.stuckRows ?? 0} rows of ${sync} are stuck in the retry set` +
        (oldest ? `, failing since ${oldest}` : '')
      );
    }
  }
}

/** Attempts of one delivery to one target (the activity's retry policy: 1, 2, 4, 8 s apart, about 15 s in all). */
export const ALERT_DELIVERY_ATTEMPTS = 5;
