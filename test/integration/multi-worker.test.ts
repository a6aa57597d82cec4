import type { ChildProcess } from 'node:child_process';
import type { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { laneTaskQueue } from '../../src/core/task-queues.js';
import { eventually, temporalJson } from '../helpers/run-cli.js';
import {
  leadRows,
  leadSquaredAccount,
  spawnCliWorker,
  stopChild,
  startLeadsSync,
  testClient,
  type LeadSquaredSetup,
} from '../helpers/sync-harness.js';
import { LEADSQUARED_PLANS } from '../../src/vendors/leadsquared/plans.js';
import { LOADED_MACHINE_TOLERANCE, vendorWindows } from '../helpers/vendor-windows.js';
import { auditWrites, onceEach } from '../helpers/write-counts.js';

const WORKERS = 3;
/**
 * About 80 s at Enterprise: a few hundred general-lane calls in about sixteen chunks of 15 s, enough for three processes
 * to share (with 600 rows, eight chunks all ran in one process of three once, on the cluster).
 */
const ROWS = 1_200;

describe('three `leadsync worker` processes on one server', () => {
  let setup: LeadSquaredSetup;
  let workers: ChildProcess[] = [];
  let client: Client;
  let connection: Connection;

  beforeAll(async () => {
    setup = await leadSquaredAccount({ plan: 'enterprise' });
    ({ client, connection } = await testClient());
    // Three processes with the same config, as a deployment runs them: each polls every queue of the account.
    workers = Array.from({ length: WORKERS }, () => spawnCliWorker(setup));
  });

  afterAll(async () => {
    await Promise.all(workers.map((worker) => stopChild(worker)));
    await connection?.close();
    await setup?.simulator.stop();
  });

  it('hold the plan ceiling together: every row landed, no window over its limit', async () => {
    const lanes = (['general', 'bulk'] as const).map((lane) => laneTaskQueue('leadsquared', setup.accountName, lane));
    for (const queue of [setup.taskQueue, ...lanes]) {
      await eventually(
        () => pollerIdentities(queue),
        (identities) => identities.size === WORKERS,
        { timeoutMs: 120_000, intervalMs: 500 },
      );
    }

    const rows = leadRows(ROWS);
    const handle = await startLeadsSync(client, setup, rows);
    const result = await handle.result();

    expect(result).toMatchObject({ totalRows: ROWS, read: ROWS, accepted: ROWS, rejected: 0 });
    const report = setup.simulator.report();
    expect(report.leads.count).toBe(ROWS);
    const stored = new Set(setup.simulator.leads().map((lead) => lead.email));
    expect(rows.every((row) => stored.has(row.EmailAddress.toLowerCase()))).toBe(true);
    // Three processes taking chunks from one queue still send each lead once.
    expect(auditWrites(setup.simulator).times).toEqual(onceEach(rows.map((row) => row.EmailAddress)));

    // Every request the vendor received, refused ones included, in each 5 s window of the strict reading (a bulk call
    // counts against the general lane too).
    const windows = vendorWindows(report.requests, LEADSQUARED_PLANS.enterprise!.lanes);
    expect(windows.over, windows.summary).toBeLessThanOrEqual(LOADED_MACHINE_TOLERANCE.overLimit);
    expect(windows.rateLimited, windows.summary).toBeLessThanOrEqual(LOADED_MACHINE_TOLERANCE.rateLimited);

    // The work really was shared: chunks ran in more than one of the processes.
    const history = await handle.fetchHistory();
    const chunkRunners = new Set(
      (history.events ?? []).flatMap((e) => e.activityTaskStartedEventAttributes?.identity ?? []),
    );
    expect(chunkRunners.size).toBeGreaterThan(1);
    console.info(
      `${WORKERS} workers, ${ROWS} rows in ${result.seconds.toFixed(1)} s: ${report.totals.requests} requests, ` +
        `${windows.summary}; activities ran in ${chunkRunners.size} processes`,
    );
  });
});

/** The processes polling a task queue, as `temporal task-queue describe` lists them (pid@host, one per process). */
async function pollerIdentities(queue: string): Promise<Set<string>> {
  const described = await temporalJson<unknown>(['task-queue', 'describe', '--task-queue', queue]);
  const identities = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        if (key === 'identity' && typeof inner === 'string') identities.add(inner);
        else visit(inner);
      }
    }
  };
  visit(described);
  return identities;
}
