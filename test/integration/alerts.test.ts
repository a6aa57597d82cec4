import { createHmac, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
import { WorkflowFailedError, type Client, type ScheduleHandle } from '@temporalio/client';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { startSync } from '../../src/api/syncs.js';
import { createSyncSchedule, triggerSyncSchedule } from '../../src/api/schedules.js';
import { loadConfig } from '../../src/config/accounts.js';
import type { AlertEvent, AlertTrigger } from '../../src/core/alerts.js';
import { LEADSQUARED_PLANS } from '../../src/vendors/leadsquared/plans.js';
import { syncAllowances } from '../../src/core/allowance.js';
import {
  LEAD_HEADER,
  csvLines,
  leadRows,
  leadSquaredSyncFixture,
  writeCsv,
  type LeadSquaredSetup,
} from '../helpers/sync-harness.js';
import { uniqueName } from '../helpers/temporal.js';
import type { leadsyncAlert } from '../../workflows/alerts.js';

/** What the receiver got: which path, the raw body as signed, the headers, and when. */
interface Received {
  path: string;
  body: string;
  headers: Record<string, string | string[] | undefined>;
  at: number;
}

/** A webhook receiver on this machine: records every request, and answers 204, or 500 while `failing`. */
class Receiver {
  readonly received: Received[] = [];
  failing = false;
  private constructor(private readonly server: Server) {}

  static async start(): Promise<Receiver> {
    const receiver: Receiver = new Receiver(
      createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          receiver.received.push({ path: request.url ?? '', body, headers: request.headers, at: Date.now() });
          response.writeHead(receiver.failing ? 500 : 204).end();
        });
      }),
    );
    receiver.server.listen(0, '127.0.0.1');
    await once(receiver.server, 'listening');
    return receiver;
  }

  url(path: string): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  /** The first request at `path` whose JSON body `matches`, waited for up to `ms`. */
  async next(path: string, matches: (body: Record<string, unknown>) => boolean, ms = 10_000): Promise<Received> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.received.find(
        (r) => r.path === path && matches(JSON.parse(r.body) as Record<string, unknown>),
      );
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no request at ${path} matched within ${ms} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }
}

const SECRET = `whsec-${uniqueName('alerts')}`;
const SECRET_ENV = 'LEADSYNC_TEST_ALERT_SECRET';
const SLACK_URL_ENV = 'LEADSYNC_TEST_ALERT_SLACK_URL';
/**
 * Any run that reads rows is slow by it: 8 rows take the Enterprise plan 0.54 s, and a sync of them at least a few
 * hundred ms of workflow and activity round trips beyond their calls.
 */
const SLOW_TIMES = 0.1;

/** Checks a webhook request's signature as a receiver would: HMAC-SHA256 of `<timestamp>.<body>`, and a fresh time. */
function verifySignature(request: Received): void {
  const timestamp = String(request.headers['x-leadsync-timestamp']);
  const expected = createHmac('sha256', SECRET).update(`${timestamp}.${request.body}`).digest();
  const signature = String(request.headers['x-leadsync-signature']);
  expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
  expect(timingSafeEqual(Buffer.from(signature.slice('sha256='.length), 'hex'), expected)).toBe(true);
  expect(Math.abs(Date.now() / 1000 - Number(timestamp))).toBeLessThan(300);
}

/** The webhook's event of `trigger` for the sync (or schedule run) `syncId`, signed, within 10 s of the event. */
async function webhookEvent(receiver: Receiver, trigger: AlertTrigger, syncId: string): Promise<AlertEvent> {
  const request = await receiver.next('/hook', (body) => body.trigger === trigger && body.syncId === syncId);
  verifySignature(request);
  const event = JSON.parse(request.body) as AlertEvent & { summary: string };
  expect(request.at - Date.parse(event.at)).toBeLessThan(10_000);
  return event;
}

describe('alerts', () => {
  let receiver: Receiver;
  const fixture = leadSquaredSyncFixture({ plan: 'enterprise' }, async (setup) => {
    receiver = await Receiver.start();
    process.env[SECRET_ENV] = SECRET;
    process.env[SLACK_URL_ENV] = receiver.url('/slack');
    return withAlerts(setup, {
      targets: {
        hook: { kind: 'webhook', url: receiver.url('/hook'), secretEnv: SECRET_ENV },
        team: { kind: 'slack', urlEnv: SLACK_URL_ENV },
      },
      triggers: { rejects: { rows: 2 }, slowRun: { times: SLOW_TIMES, minSeconds: 0 } },
    });
  });
  const schedules: ScheduleHandle[] = [];
  afterAll(async () => {
    await Promise.all(schedules.splice(0).map((s) => s.delete()));
    await receiver?.stop();
  });

  it('tells the webhook and Slack that a sync failed, and neither the secret nor a URL reaches a history', async () => {
    const { setup, client } = fixture;
    const missing = `${setup.directory}/no-such-file.csv`;

    const handle = await startSync(
      client,
      { account: setup.accountName, source: { kind: 'csv', path: missing } },
      { taskQueue: setup.taskQueue },
    );
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);

    const event = await webhookEvent(receiver, 'sync-failed', handle.workflowId);
    expect(event).toMatchObject({ account: setup.accountName, failure: expect.stringContaining('no-such-file.csv') });
    const slack = await receiver.next('/slack', (body) => String(body.text).includes(handle.workflowId));
    const slackBody = JSON.parse(slack.body) as { text: string; blocks: unknown[] };
    expect(slackBody.text).toMatch(new RegExp(`^leadsync: sync ${handle.workflowId} into ${setup.accountName} failed`));
    expect(slackBody.blocks.length).toBeGreaterThan(0);
    const alert = await alertWorkflowId(client, handle.workflowId, 'sync-failed');
    for (const id of [handle.workflowId, alert]) {
      const history = JSON.stringify(await client.workflow.getHandle(id).fetchHistory());
      expect(history).not.toContain(SECRET);
      expect(history).not.toContain(receiver.url(''));
    }
  }, 60_000);

  it('tells of rejects over the threshold and of a run slower than the plan allows, with the figures', async () => {
    const { setup, client } = fixture;
    const rows = leadRows(6);
    const file = await writeCsv(setup.directory, 'rejects.csv', LEAD_HEADER, [
      ...csvLines(rows),
      'not-an-email-1,Bad,Row',
      'not-an-email-2,Bad,Row',
    ]);

    const handle = await startSync(
      client,
      { account: setup.accountName, source: { kind: 'csv', path: file } },
      { taskQueue: setup.taskQueue },
    );
    const result = await handle.result();

    expect(result).toMatchObject({ read: 8, accepted: 6, rejected: 2 });
    const rejects = await webhookEvent(receiver, 'rejects', handle.workflowId);
    expect(rejects).toMatchObject({
      counts: { read: 8, accepted: 6, rejected: 2, unattributed: 0 },
      threshold: { rows: 2 },
    });
    const slow = await webhookEvent(receiver, 'slow-run', handle.workflowId);
    const planRate = syncAllowances(LEADSQUARED_PLANS.enterprise!).reduce(
      (sum, a) => sum + a.callsPerSecond * a.rowsPerCall,
      0,
    );
    const estimate = 8 / planRate;
    expect(slow.estimateSeconds).toBeCloseTo(estimate, 6);
    expect(slow.seconds).toBeCloseTo(result.seconds, 6);
    expect(slow.seconds!).toBeGreaterThan(SLOW_TIMES * estimate);
  }, 60_000);

  it('tells that a schedule paused when its run failed, and the schedule is paused', async () => {
    const { setup, client } = fixture;
    const schedule = await createSyncSchedule(client, {
      scheduleId: uniqueName('alerting-schedule'),
      input: { account: setup.accountName, source: { kind: 'csv', path: `${setup.directory}/gone.csv` } },
      every: '1h',
      taskQueue: setup.taskQueue,
    });
    schedules.push(schedule);

    await triggerSyncSchedule(schedule);
    const request = await receiver.next(
      '/hook',
      (body) => body.trigger === 'schedule-paused' && body.scheduleId === schedule.scheduleId,
      30_000,
    );

    verifySignature(request);
    const event = JSON.parse(request.body) as AlertEvent;
    expect(event.failure).toContain('gone.csv');
    expect(request.at - Date.parse(event.at)).toBeLessThan(10_000);
    await expect.poll(async () => (await schedule.describe()).state.paused, { timeout: 10_000 }).toBe(true);
  }, 60_000);

  it('delivers rows-stuck with the retry set as the sync reports it', async () => {
    const { setup, client } = fixture;
    const syncId = uniqueName('stuck-sync');
    // The event a sync whose result has retrySet.stuckRows > 0 raises (unit-tested in test/unit/alerts.test.ts).
    const event: AlertEvent = {
      trigger: 'rows-stuck',
      syncId,
      account: setup.accountName,
      at: new Date().toISOString(),
      retrySet: { size: 12, stuckRows: 3, oldestFailedAt: '2026-12-01T00:00:00.000Z' },
    };

    await client.workflow.start<typeof leadsyncAlert>('leadsyncAlert', {
      args: [event],
      workflowId: `${syncId}-alert-rows-stuck`,
      taskQueue: setup.taskQueue,
    });

    const delivered = await webhookEvent(receiver, 'rows-stuck', syncId);
    expect(delivered).toMatchObject({ ...event, summary: expect.stringContaining('3 rows of sync') });
  }, 30_000);

  it('a receiver answering 500 changes nothing in the sync: it completes as fast, while the alert is retried', async () => {
    const { setup, client } = fixture;
    // Each run starts on a fresh 5-second window of the account: one spent by the run before would hold it seconds.
    // The window is the vendor's: it is fresh 5 s after the last call the vendor received, not 5 s after this line.
    const run = async (name: string) => {
      const lastCall = Math.max(0, ...setup.simulator.report().requests.map((request) => request.at));
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, lastCall + 5_500 - Date.now())));
      const file = await writeCsv(setup.directory, name, LEAD_HEADER, [
        ...csvLines(leadRows(6)),
        'bad-row,Bad,Row',
        'bad-row-2,Bad,Row',
      ]);
      const started = Date.now();
      const handle = await startSync(
        client,
        { account: setup.accountName, source: { kind: 'csv', path: file } },
        { taskQueue: setup.taskQueue },
      );
      const result = await handle.result();
      return { handle, result, ms: Date.now() - started };
    };
    const healthy = await run('healthy.csv');
    await receiver.next('/hook', (body) => body.syncId === healthy.handle.workflowId);

    receiver.failing = true;
    const dead = await run('dead.csv');

    expect(dead.result).toMatchObject({ read: 8, accepted: 6, rejected: 2 });
    console.info(
      `a sync of 8 rows: ${healthy.ms} ms with a receiver (${healthy.result.seconds} s in the sync), ` +
        `${dead.ms} ms with one answering 500 (${dead.result.seconds} s)`,
    );
    // A sync that waited for its alerts would take their retries' 15 s.
    expect(dead.ms).toBeLessThan(healthy.ms + 3_000);
    // The receiver was tried, and tried again after the sync completed.
    const attempts = () =>
      receiver.received.filter((r) => r.path === '/hook' && r.body.includes(dead.handle.workflowId)).length;
    await expect.poll(attempts, { timeout: 10_000 }).toBeGreaterThanOrEqual(4);
    // Each delivery is given up after its attempts, and its alert workflow fails naming the target.
    for (const trigger of ['rejects', 'slow-run'] as const) {
      const alert = client.workflow.getHandle(await alertWorkflowId(client, dead.handle.workflowId, trigger));
      await expect(alert.result()).rejects.toMatchObject({
        cause: { message: 'the alert was not delivered to hook, team' },
      });
    }
  }, 90_000);
});

/** The workflow delivering a sync's alert of `trigger`: named for the sync, the trigger and the sync's last run. */
async function alertWorkflowId(client: Client, syncId: string, trigger: AlertTrigger): Promise<string> {
  const { runId } = await client.workflow.getHandle(syncId).describe();
  return `${syncId}-alert-${trigger}-${runId}`;
}

/** Adds an alerts section to the setup's config file, and reloads it. */
async function withAlerts(setup: LeadSquaredSetup, alerts: Record<string, unknown>): Promise<LeadSquaredSetup> {
  const raw = parseYaml(await readFile(setup.configPath, 'utf8')) as Record<string, unknown>;
  await writeFile(setup.configPath, toYaml({ ...raw, alerts }));
  return { ...setup, config: await loadConfig(setup.configPath) };
}

describe('without an alerts section', () => {
  const fixture = leadSquaredSyncFixture({ plan: 'enterprise' });

  it('a failed sync starts no alert workflow', async () => {
    const { setup, client } = fixture;

    const handle = await startSync(
      client,
      { account: setup.accountName, source: { kind: 'csv', path: `${setup.directory}/no-such-file.csv` } },
      { taskQueue: setup.taskQueue },
    );
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);

    const { events } = await handle.fetchHistory();
    expect(events?.some((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)).toBe(false);
    const alert = client.workflow.getHandle(await alertWorkflowId(client, handle.workflowId, 'sync-failed'));
    await expect(alert.describe()).rejects.toThrow(/not found/i);
  }, 30_000);
});
