import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client, Connection } from '@temporalio/client';
import { stringify as toYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSync } from '../../src/api/syncs.js';
import { loadConfig } from '../../src/config/accounts.js';
import { laneTaskQueue, sharedLaneTaskQueue } from '../../src/core/task-queues.js';
import { LEADSQUARED_PLANS } from '../../src/vendors/leadsquared/plans.js';
import {
  startLeadSquaredSimulator,
  type RunningLeadSquaredSimulator,
} from '../../src/vendors/leadsquared/simulator/server.js';
import { LeadsyncWorker } from '../../src/worker/worker.js';
import { eventually } from '../helpers/run-cli.js';
import { LEAD_HEADER, csvLines, leadRows, testClient, workflowBundle, writeCsv } from '../helpers/sync-harness.js';
import { testTemporal, uniqueName, uniqueTaskQueue } from '../helpers/temporal.js';
import { LOADED_MACHINE_TOLERANCE, vendorWindows } from '../helpers/vendor-windows.js';
import { auditWrites, onceEach } from '../helpers/write-counts.js';

/** Accounts in the config; only the first SYNCING of them, each on a simulator of its own, sync. */
const ACCOUNTS = 20;
const SYNCING = 3;
/** About 14 s at Enterprise (14.8 rows/s), the three at once. */
const ROWS = 200;
/** TASK_QUEUE_TYPE_ACTIVITY */
const ACTIVITY = 2;

describe('a worker on shared task queues, with 20 LeadSquared accounts configured', () => {
  const taskQueue = uniqueTaskQueue('shared');
  const prefix = uniqueName('lsq');
  const names = Array.from({ length: ACCOUNTS }, (_, i) => `${prefix}-${i + 1}`);
  const simulators: RunningLeadSquaredSimulator[] = [];
  let directory: string;
  let worker: LeadsyncWorker;
  let running: Promise<void>;
  let client: Client;
  let connection: Connection;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'leadsync-shared-'));
    const accounts: Record<string, unknown> = {};
    for (const [i, name] of names.entries()) {
      const variable = name.replace(/[^A-Za-z0-9]/g, '_').toUpperCase();
      const keys = { accessKey: `u$${uniqueName('access')}`, secretKey: uniqueName('secret') };
      process.env[`${variable}_ACCESS_KEY`] = keys.accessKey;
      process.env[`${variable}_SECRET_KEY`] = keys.secretKey;
      // The accounts that sync each have a simulator of their own, with their own keys and windows; the others idle.
      if (i < SYNCING) simulators.push(await startLeadSquaredSimulator({ plan: 'enterprise', ...keys }));
      accounts[name] = {
        vendor: 'leadsquared',
        plan: 'enterprise',
        baseUrl: simulators[Math.min(i, SYNCING - 1)]!.baseUrl,
        credentials: { accessKeyEnv: `${variable}_ACCESS_KEY`, secretKeyEnv: `${variable}_SECRET_KEY` },
      };
    }
    const configPath = join(directory, 'leadsync.yaml');
    await writeFile(
      configPath,
      toYaml({ accounts, rejects: { directory: join(directory, 'rejects') }, worker: { taskQueues: 'shared' } }),
    );
    worker = await LeadsyncWorker.create({
      config: await loadConfig(configPath),
      ...testTemporal(),
      taskQueue,
      workflowBundle: await workflowBundle(),
    });
    running = worker.run();
    ({ client, connection } = await testClient());
  });

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await connection?.close();
    await Promise.all(simulators.map((simulator) => simulator.stop()));
  });

  const pollers = async (queue: string) =>
    (
      await connection.workflowService.describeTaskQueue({
        namespace: testTemporal().namespace,
        taskQueue: { name: queue },
        taskQueueType: ACTIVITY,
      })
    ).pollers ?? [];

  it('runs one Worker of chunks per lane kind, not per account, and polls no per-account queue', async () => {
    const shared = (['general', 'bulk'] as const).map((lane) => sharedLaneTaskQueue(taskQueue, lane));

    expect(worker.taskQueues).toBe('shared');
    expect(worker.lanes.map((lane) => lane.taskQueue).sort()).toEqual(shared.sort());
    // No per-key limit set or found: the governor alone paces.
    expect(worker.lanes.every((lane) => lane.fairnessKeyRateLimit === undefined)).toBe(true);
    // The server sees the same: polls on the shared queues, none on an account's own.
    for (const queue of shared)
      await eventually(
        () => pollers(queue),
        (found) => found.length > 0,
      );
    expect(await pollers(laneTaskQueue('leadsquared', names[0]!, 'general'))).toHaveLength(0);
  });

  it('lands every row of three accounts syncing at once, each within its own windows and written once', async () => {
    const syncing = names.slice(0, SYNCING);
    const rows = syncing.map((name) => leadRows(ROWS, uniqueName(name)));
    const files = await Promise.all(
      syncing.map((name, i) => writeCsv(directory, `${name}.csv`, LEAD_HEADER, csvLines(rows[i]!))),
    );

    const handles = await Promise.all(
      syncing.map((account, i) =>
        startSync(client, { account, source: { kind: 'csv', path: files[i]! } }, { taskQueue }),
      ),
    );
    const results = await Promise.all(handles.map((handle) => handle.result()));

    for (const [i, account] of syncing.entries()) {
      const simulator = simulators[i]!;
      expect(results[i], account).toMatchObject({ totalRows: ROWS, read: ROWS, accepted: ROWS, rejected: 0 });
      expect(simulator.report({ requests: false }).leads.count, account).toBe(ROWS);
      expect(auditWrites(simulator).times, account).toEqual(onceEach(rows[i]!.map((row) => row.EmailAddress)));
      const windows = vendorWindows(simulator.report().requests, LEADSQUARED_PLANS.enterprise!.lanes);
      console.info(`${account}: ${ROWS} rows in ${results[i]!.seconds.toFixed(1)} s; ${windows.summary}`);
      expect(windows.over, `${account}: ${windows.summary}`).toBeLessThanOrEqual(LOADED_MACHINE_TOLERANCE.overLimit);
      expect(windows.rateLimited, `${account}: ${windows.summary}`).toBeLessThanOrEqual(
        LOADED_MACHINE_TOLERANCE.rateLimited,
      );
      // Every chunk went to the shared queue of its lane kind, keyed by its own account and lane.
      const history = await handles[i]!.fetchHistory();
      const chunks = (history.events ?? []).flatMap((event) => {
        const scheduled = event.activityTaskScheduledEventAttributes;
        return scheduled?.activityType?.name === 'pushChunk' ? [scheduled] : [];
      });
      expect(chunks.length, account).toBeGreaterThan(0);
      for (const chunk of chunks) {
        const lane = chunk.taskQueue?.name === sharedLaneTaskQueue(taskQueue, 'bulk') ? 'bulk' : 'general';
        expect(chunk.taskQueue?.name).toBe(sharedLaneTaskQueue(taskQueue, lane));
        expect(chunk.priority?.fairnessKey).toBe(`leadsquared/${account}/${lane}`);
      }
    }
  }, 120_000);
});

describe('a worker on shared task queues with the per-key backstop', () => {
  it("sets each shared queue's per-fairness-key rate limit on the server, and reports what the server holds", async () => {
    const directory = await mkdtemp(join(tmpdir(), 'leadsync-backstop-'));
    const configPath = join(directory, 'leadsync.yaml');
    const account = {
      vendor: 'leadsquared',
      plan: 'enterprise',
      baseUrl: 'http://127.0.0.1:9/v2',
      credentials: { accessKeyEnv: 'UNUSED_ACCESS_KEY', secretKeyEnv: 'UNUSED_SECRET_KEY' },
    };
    await writeFile(
      configPath,
      toYaml({ accounts: { acme: account }, worker: { taskQueues: 'shared', fairnessKeyBackstop: true } }),
    );

    const worker = await LeadsyncWorker.create({
      config: await loadConfig(configPath),
      ...testTemporal(),
      taskQueue: uniqueTaskQueue('backstop'),
      workflowBundle: await workflowBundle(),
    });
    const running = worker.run();
    worker.shutdown();
    await running;

    expect(worker.lanes.map((lane) => lane.fairnessKeyRateLimit)).toEqual([1, 1]);
  });
});
