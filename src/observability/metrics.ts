import type { MetricMeter } from '@temporalio/common';
import { sustainedRate, type Window } from '../core/plans.js';

/** Which governed lane a measurement belongs to: the same triple that names a lane's task queue. */
export interface SyncMetricTags {
  vendor: string;
  account: string;
  lane: string;
}

/** leadsync's own series, named as Prometheus shows them (the runtime adds no `_total` of its own). */
export const SYNC_METRIC_NAMES = {
  rowsAccepted: 'leadsync_rows_accepted_total',
  rowsRejected: 'leadsync_rows_rejected_total',
  requests: 'leadsync_requests_total',
  rateLimited: 'leadsync_rate_limited_total',
  rateCeilingRatio: 'leadsync_rate_ceiling_ratio',
  backoff: 'leadsync_backoff_seconds',
} as const;

/**
 * Vendor backoffs run from a fraction of a second (a 25-per-5-s window) to an hour (SmartLead's hourly window); the
 * runtime's default buckets are sized for milliseconds of task latency and would put them all in one bucket.
 */
export const BACKOFF_BUCKETS_SECONDS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600];

export interface SyncMetrics {
  /** Rows the vendor took. */
  accepted(rows: number): void;
  /** Rows that went to the rejects report: refused by the vendor for their own fault, or failing leadsync's checks. */
  rejected(rows: number): void;
  /** One call to the vendor, whatever its answer. */
  request(): void;
  /** One rate-limit answer, and how long the vendor (or the governor) made us wait before the retry. */
  rateLimited(backoffMs: number): void;
  /** The lane's observed rate against its ceiling: 1 is running exactly at the limit. */
  rateAgainstCeiling(ratePerSecond: number, ceilingPerSecond: number): void;
}

/**
 * A recorder over Temporal's MetricMeter, so leadsync's series share the worker's Prometheus endpoint with
 * Temporal's own. Inside an activity pass `Context.current().metricMeter` (it adds namespace, task queue and activity
 * type); elsewhere in the worker `Runtime.instance().metricMeter`.
 */
export function syncMetrics(meter: MetricMeter, tags: SyncMetricTags): SyncMetrics {
  const tagged = meter.withTags({ vendor: tags.vendor, account: tags.account, lane: tags.lane });
  const accepted = tagged.createCounter(SYNC_METRIC_NAMES.rowsAccepted, 'rows', 'Rows the vendor accepted');
  const rejected = tagged.createCounter(SYNC_METRIC_NAMES.rowsRejected, 'rows', 'Rows written to the rejects report');
  const requests = tagged.createCounter(SYNC_METRIC_NAMES.requests, 'requests', 'Calls made to the vendor API');
  const rateLimited = tagged.createCounter(
    SYNC_METRIC_NAMES.rateLimited,
    'responses',
    'Rate-limit answers from the vendor API',
  );
  const ratio = tagged.createGauge(
    SYNC_METRIC_NAMES.rateCeilingRatio,
    'float',
    'ratio',
    "Observed request rate divided by the lane's ceiling",
  );
  const backoff = tagged.createHistogram(
    SYNC_METRIC_NAMES.backoff,
    'float',
    'seconds',
    'Wait imposed by a rate-limit answer before the retry',
  );
  return {
    accepted: (rows) => addRows(accepted.add.bind(accepted), rows),
    rejected: (rows) => addRows(rejected.add.bind(rejected), rows),
    request: () => requests.add(1),
    rateLimited(backoffMs) {
      rateLimited.add(1);
      backoff.record(Math.max(0, backoffMs) / 1000);
    },
    rateAgainstCeiling(ratePerSecond, ceilingPerSecond) {
      // A lane without a positive ceiling has nothing to be measured against; a ratio of Infinity would poison graphs.
      if (ceilingPerSecond > 0) ratio.set(Math.max(0, ratePerSecond) / ceilingPerSecond);
    },
  };
}

/** Counters only go up, and the native side rejects fractions and negatives: zero rows is simply nothing to record. */
function addRows(add: (value: number) => void, rows: number): void {
  if (Number.isInteger(rows) && rows > 0) add(rows);
  else if (rows !== 0) throw new RangeError(`row count must be a non-negative integer, got ${rows}`);
}

/** A governed lane as an activity sees it: its tags and the windows that make its ceiling. */
export interface LaneMetricsTarget extends SyncMetricTags {
  windows: readonly Window[];
}

/** Idle lanes are looked for at most this often: the look walks every lane. */
const SWEEP_MS = 1_000;

/**
 * Calls this process made per lane, kept for the span of the lane's tightest window: the rate a vendor enforcing
 * that window sees from this process. Per process on purpose: Prometheus sums the ratio over every worker of a
 * lane into the lane's global rate against its ceiling. A lane without a call for that span is forgotten: accounts
 * come and go with the config, and an idle lane has no calls left to count.
 */
export class RecentCalls {
  private readonly lanes = new Map<string, { calls: number[]; spanMs: number }>();
  private sweptAt = -Infinity;

  /** Records a call made at `at` on `lane`, and says how many calls the lane made in the `spanMs` up to it. */
  record(lane: string, spanMs: number, at: number): number {
    if (at - this.sweptAt >= SWEEP_MS) {
      this.sweptAt = at;
      for (const [key, { calls, spanMs: span }] of this.lanes) if (calls.at(-1)! <= at - span) this.lanes.delete(key);
    }
    const recent = this.lanes.get(lane) ?? { calls: [], spanMs };
    recent.spanMs = spanMs;
    recent.calls.push(at);
    while (recent.calls[0]! <= at - spanMs) recent.calls.shift();
    this.lanes.set(lane, recent);
    return recent.calls.length;
  }

  /** Lanes remembered. */
  get size(): number {
    return this.lanes.size;
  }
}

const recentCalls = new RecentCalls();

/**
 * syncMetrics for one lane, where each request also refreshes the rate-against-ceiling gauge, so an activity only
 * says what happened (a call, rows accepted, a rate limit) and the ratio follows.
 */
export function laneMetrics(
  meter: MetricMeter,
  target: LaneMetricsTarget,
  now: () => number = Date.now,
): Omit<SyncMetrics, 'rateAgainstCeiling'> {
  const metrics = syncMetrics(meter, target);
  const ceiling = target.windows.length > 0 ? sustainedRate(target.windows) : 0;
  const tightest = target.windows.find((w) => w.limit / w.seconds === ceiling);
  const key = `${target.vendor}\u0000${target.account}\u0000${target.lane}`;
  return {
    accepted: metrics.accepted,
    rejected: metrics.rejected,
    rateLimited: metrics.rateLimited,
    request() {
      metrics.request();
      if (!tightest) return;
      const calls = recentCalls.record(key, tightest.seconds * 1000, now());
      metrics.rateAgainstCeiling(calls / tightest.seconds, ceiling);
    },
  };
}

/** Alert deliveries per target and trigger: delivered, or given up on after the delivery's attempts. */
export const ALERT_METRIC_NAMES = {
  delivered: 'leadsync_alerts_delivered_total',
  failed: 'leadsync_alert_deliveries_failed_total',
} as const;

export interface AlertMetrics {
  delivered(): void;
  /** A delivery given up on: its attempts spent, or refused by the receiver. */
  failed(): void;
}

export function alertMetrics(meter: MetricMeter, tags: { target: string; trigger: string }): AlertMetrics {
  const tagged = meter.withTags({ target: tags.target, trigger: tags.trigger });
  const delivered = tagged.createCounter(ALERT_METRIC_NAMES.delivered, 'alerts', 'Alerts a target accepted');
  const failed = tagged.createCounter(ALERT_METRIC_NAMES.failed, 'alerts', 'Alerts no attempt could deliver');
  return { delivered: () => delivered.add(1), failed: () => failed.add(1) };
}
