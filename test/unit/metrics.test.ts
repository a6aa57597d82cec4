import type { MetricMeter, MetricTags } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { RecentCalls, alertMetrics, laneMetrics, syncMetrics } from '../../src/observability/metrics.js';
import { installRuntime, MetricsBindAddressSchema } from '../../src/observability/runtime.js';
import { JsonLogger } from '../../src/observability/logger.js';

interface Recorded {
  name: string;
  kind: string;
  value: number;
  tags: MetricTags;
}

/** A meter that keeps what is recorded, with the tags it was given: the real one lives in the native runtime. */
function recordingMeter(recorded: Recorded[], tags: MetricTags = {}): MetricMeter {
  const metric = (kind: string, name: string) => {
    const record = (value: number) => recorded.push({ name, kind, value, tags });
    return { name, kind, valueType: 'float', add: record, set: record, record, withTags: () => metric(kind, name) };
  };
  return {
    createCounter: (name) => metric('counter', name) as never,
    createGauge: (name) => metric('gauge', name) as never,
    createHistogram: (name) => metric('histogram', name) as never,
    withTags: (extra) => recordingMeter(recorded, { ...tags, ...extra }),
  };
}

describe('laneMetrics', () => {
  it("sets the ratio from this process's calls over the lane's tightest window, and forgets older calls", () => {
    const recorded: Recorded[] = [];
    let now = 10_000;
    const windows = [
      { limit: 10, seconds: 1 },
      { limit: 60, seconds: 60 },
    ];
    const lane = laneMetrics(
      recordingMeter(recorded),
      { vendor: 'smartlead', account: 'ratio', lane: 'api', windows },
      () => now,
    );
    const ratios = () => recorded.filter((r) => r.name === 'leadsync_rate_ceiling_ratio').map((r) => r.value);
    for (let i = 0; i < 30; i++, now += 1000) lane.request();
    // 1 call a second against 60 a minute: the minute window is the ceiling, and after 30 s half of it is used.
    expect(ratios().at(-1)).toBeCloseTo(0.5);
    now += 60_000;
    lane.request();
    expect(ratios().at(-1)).toBeCloseTo(1 / 60);
    expect(recorded.filter((r) => r.name === 'leadsync_requests_total')).toHaveLength(31);
  });
});

describe('RecentCalls', () => {
  it('forgets a lane once its window holds none of its calls, and counts each lane over its own window', () => {
    const recent = new RecentCalls();
    expect(recent.record('gone', 5_000, 0)).toBe(1);
    expect(recent.record('gone', 5_000, 1_000)).toBe(2);
    expect(recent.record('busy', 60_000, 2_000)).toBe(1);
    expect(recent.size).toBe(2);

    // 'gone' is idle for its whole 5-second window; 'busy' has a minute.
    expect(recent.record('busy', 60_000, 6_500)).toBe(2);
    expect(recent.size).toBe(1);
    expect(recent.record('gone', 5_000, 7_000)).toBe(1);
    expect(recent.size).toBe(2);
  });
});

describe('syncMetrics', () => {
  const tags = { vendor: 'smartlead', account: 'acme', lane: 'api' };

  it('records each event on its series, tagged with vendor, account and lane', () => {
    const recorded: Recorded[] = [];
    const metrics = syncMetrics(recordingMeter(recorded, { namespace: 'default' }), tags);
    metrics.request();
    metrics.accepted(25);
    metrics.rejected(3);
    metrics.rateLimited(2500);
    metrics.rateAgainstCeiling(9, 10);
    expect(recorded).toEqual([
      { name: 'leadsync_requests_total', kind: 'counter', value: 1, tags: { namespace: 'default', ...tags } },
      { name: 'leadsync_rows_accepted_total', kind: 'counter', value: 25, tags: { namespace: 'default', ...tags } },
      { name: 'leadsync_rows_rejected_total', kind: 'counter', value: 3, tags: { namespace: 'default', ...tags } },
      { name: 'leadsync_rate_limited_total', kind: 'counter', value: 1, tags: { namespace: 'default', ...tags } },
      { name: 'leadsync_backoff_seconds', kind: 'histogram', value: 2.5, tags: { namespace: 'default', ...tags } },
      { name: 'leadsync_rate_ceiling_ratio', kind: 'gauge', value: 0.9, tags: { namespace: 'default', ...tags } },
    ]);
  });

  it('records nothing for zero rows or a lane without a ceiling, and refuses counts a counter cannot take', () => {
    const recorded: Recorded[] = [];
    const metrics = syncMetrics(recordingMeter(recorded), tags);
    metrics.accepted(0);
    metrics.rateAgainstCeiling(3, 0);
    expect(recorded).toEqual([]);
    expect(() => metrics.accepted(-1)).toThrow(RangeError);
    expect(() => metrics.rejected(1.5)).toThrow(RangeError);
  });
});

describe('alertMetrics', () => {
  it('counts deliveries and failed deliveries, tagged with the target and the trigger', () => {
    const recorded: Recorded[] = [];
    const metrics = alertMetrics(recordingMeter(recorded), { target: 'ops', trigger: 'sync-failed' });
    metrics.delivered();
    metrics.failed();
    const tags = { target: 'ops', trigger: 'sync-failed' };
    expect(recorded).toEqual([
      { name: 'leadsync_alerts_delivered_total', kind: 'counter', value: 1, tags },
      { name: 'leadsync_alert_deliveries_failed_total', kind: 'counter', value: 1, tags },
    ]);
  });
});

describe('installRuntime', () => {
  it('accepts host:port bind addresses, IPv6 in brackets', () => {
    for (const address of ['0.0.0.0:9464', '127.0.0.1:1', 'worker-1:9464', '[::]:9464']) {
      expect(MetricsBindAddressSchema.safeParse(address).success, address).toBe(true);
    }
    for (const address of ['9464', 'http://0.0.0.0:9464', '0.0.0.0:99999', ':9464', '::1:9464']) {
      expect(MetricsBindAddressSchema.safeParse(address).success, address).toBe(false);
    }
  });

  it('refuses a bad bind address before installing anything, naming it', () => {
    expect(() => installRuntime({ metricsBindAddress: 'localhost', logger: new JsonLogger() })).toThrow(ConfigError);
    expect(() => installRuntime({ metricsBindAddress: 'localhost', logger: new JsonLogger() })).toThrow(
      /metrics bind address/,
    );
  });
});
