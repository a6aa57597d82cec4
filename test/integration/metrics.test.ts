// Installs the process's Temporal runtime, which can happen once per process: keep every runtime test in this file.
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Context, log } from '@temporalio/activity';
import type { Client, Connection } from '@temporalio/client';
import { type NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redactor } from '../../src/observability/redactor.js';
import { JsonLogger } from '../../src/observability/logger.js';
import { syncMetrics } from '../../src/observability/metrics.js';
import { installRuntime } from '../../src/observability/runtime.js';
import { connectTestClient, connectTestWorker, uniqueName, uniqueTaskQueue } from '../helpers/temporal.js';

const SECRET = 'sk-metrics-test-5c1d';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The text exposition format, enough of it for these series: `name{k="v",...} value`. */
function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match || line.startsWith('#')) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

function valueOf(samples: Sample[], name: string, labels: Record<string, string>): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('the worker runtime leadsync installs', () => {
  const lines: string[] = [];
  const account = uniqueName('acme');
  let metricsUrl: string;
  let connection: NativeConnection;
  let client: Client;
  let clientConnection: Connection;

  beforeAll(async () => {
    const port = await freePort();
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
    installRuntime({
      metricsBindAddress: `127.0.0.1:${port}`,
      logger: new JsonLogger({ sink: { write: (line: string) => lines.push(line) }, redactor: new Redactor([SECRET]) }),
    });
    connection = await connectTestWorker();
    ({ client, connection: clientConnection } = await connectTestClient());
  });

  afterAll(async () => {
    await clientConnection?.close();
    await connection?.close();
  });

  it('serves leadsync counters beside Temporal worker metrics, and logs SDK events as redacted JSON', async () => {
    const taskQueue = uniqueTaskQueue('metrics');
    const activities = {
      async recordSyncMetrics(): Promise<void> {
        const general = syncMetrics(Context.current().metricMeter, { vendor: 'leadsquared', account, lane: 'general' });
        general.request();
        general.request();
        general.accepted(40);
        general.rejected(2);
        general.rateLimited(1500);
        general.rateAgainstCeiling(4, 5);
        // A second recorder for the same lane adds to the same series, as every activity run makes its own.
        const again = syncMetrics(Context.current().metricMeter, { vendor: 'leadsquared', account, lane: 'general' });
        again.accepted(10);
        again.request();
        const bulk = syncMetrics(Context.current().metricMeter, { vendor: 'leadsquared', account, lane: 'bulk' });
        bulk.request();
        bulk.rateLimited(5000);
        log.info(`pushed rows with key ${SECRET}`, { credentials: { secretKey: SECRET } });
      },
    };
    const worker = await Worker.create({
      connection,
      taskQueue,
      workflowsPath: fileURLToPath(new URL('./fixtures/metrics-workflow.ts', import.meta.url)),
      activities,
    });

    const text = await worker.runUntil(async () => {
      await client.workflow.execute('metricsWorkflow', { taskQueue, workflowId: uniqueName('metrics') });
      // Scrape while the worker runs: the runtime, and its endpoint, stop when the last worker and connection go.
      return (await fetch(metricsUrl)).text();
    });
    const samples = parsePrometheus(text);

    const general = { vendor: 'leadsquared', account, lane: 'general' };
    const bulk = { ...general, lane: 'bulk' };
    expect(valueOf(samples, 'leadsync_requests_total', general)).toBe(3);
    expect(valueOf(samples, 'leadsync_rows_accepted_total', general)).toBe(50);
    expect(valueOf(samples, 'leadsync_rows_rejected_total', general)).toBe(2);
    expect(valueOf(samples, 'leadsync_rate_limited_total', general)).toBe(1);
    expect(valueOf(samples, 'leadsync_rate_ceiling_ratio', general)).toBeCloseTo(0.8);
    expect(valueOf(samples, 'leadsync_backoff_seconds_sum', general)).toBeCloseTo(1.5);
    expect(valueOf(samples, 'leadsync_backoff_seconds_bucket', { ...general, le: '1' })).toBe(0);
    expect(valueOf(samples, 'leadsync_backoff_seconds_bucket', { ...general, le: '2' })).toBe(1);
    expect(valueOf(samples, 'leadsync_requests_total', bulk)).toBe(1);
    expect(valueOf(samples, 'leadsync_rate_limited_total', bulk)).toBe(1);
    expect(valueOf(samples, 'leadsync_backoff_seconds_sum', bulk)).toBeCloseTo(5);
    // The activity context's meter tags our series with where they came from (in the SDK's camelCase, not core's).
    expect(valueOf(samples, 'leadsync_requests_total', { ...bulk, taskQueue, activityType: 'recordSyncMetrics' })).toBe(
      1,
    );
    // Temporal's own worker metrics on the same endpoint.
    expect(valueOf(samples, 'temporal_workflow_completed', { task_queue: taskQueue })).toBe(1);
    expect(samples.some((s) => s.name.startsWith('temporal_activity_execution_latency'))).toBe(true);

    const events = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.every((line) => line.endsWith('\n') && line.indexOf('\n') === line.length - 1)).toBe(true);
    expect(lines.join('')).not.toContain(SECRET);
    expect(events).toContainEqual(
      expect.objectContaining({
        level: 'info',
        msg: 'pushed rows with key [REDACTED]',
        credentials: { secretKey: '[REDACTED]' },
        sdkComponent: 'activity',
        taskQueue,
      }),
    );
    expect(events).toContainEqual(expect.objectContaining({ sdkComponent: 'worker', taskQueue }));
  });
});
