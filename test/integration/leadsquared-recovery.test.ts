import { setTimeout as sleep } from 'node:timers/promises';
import type { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSync, syncProgress } from '../../src/api/syncs.js';
import {
  LEAD_HEADER,
  csvLines,
  leadRows,
  leadSquaredAccount,
  spawnCliWorker,
  startLeadsSync,
  startTestWorker,
  stopChild,
  testClient,
  writeCsv,
} from '../helpers/sync-harness.js';
import { auditWrites, onceEach } from '../helpers/write-counts.js';

describe('a LeadSquared sync that meets trouble', () => {
  let client: Client;
  let connection: Connection;

  beforeAll(async () => {
    ({ client, connection } = await testClient());
  });

  afterAll(async () => {
    await connection?.close();
  });

  it('sends again only the calls refused by a vendor stricter than the configured plan, and completes', async () => {
    // Configured as Enterprise (25 per 5 s); the vendor enforces Pro (5 per 5 s).
    const setup = await leadSquaredAccount({ plan: 'enterprise', simulator: { plan: 'pro' } });
    const worker = await startTestWorker(setup);
    try {
      const rows = leadRows(120);
      const handle = await startLeadsSync(client, setup, rows);
      const result = await handle.result();

      expect(result).toMatchObject({ read: 120, accepted: 120, rejected: 0 });
      expect(result.retried).toBeGreaterThan(0);
      const report = setup.simulator.report();
      expect(report.totals.rateLimited).toBeGreaterThan(0);
      expect(report.leads.count).toBe(120);
      // A refused call wrote nothing, and only it is sent again: the calls of its chunk that landed are not.
      expect(auditWrites(setup.simulator).times).toEqual(onceEach(rows.map((row) => row.EmailAddress)));
      const history = await handle.fetchHistory();
      // The sync heard of each backoff, to show a person what it waits for and until when.
      const backoffs = (history.events ?? []).filter(
        (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'backoff',
      );
      expect(backoffs.length).toBeGreaterThan(0);
    } finally {
      await worker.stop();
      await setup.simulator.stop();
    }
  }, 180_000);

  it('lands every row when its worker is killed mid-sync and another starts, resending only what the killed one sent', async () => {
    const setup = await leadSquaredAccount({ plan: 'enterprise' });
    const rows = leadRows(300);
    const file = await writeCsv(setup.directory, 'leads.csv', LEAD_HEADER, csvLines(rows));
    let worker = spawnCliWorker(setup);
    try {
      const handle = await startSync(
        client,
        { account: setup.accountName, source: { kind: 'csv', path: file } },
        { taskQueue: setup.taskQueue },
      );
      while (((await syncProgress(handle).catch(() => undefined))?.counts.read ?? 0) < 60) await sleep(250);

      const killed = { pid: worker.pid!, at: Date.now() };
      await stopChild(worker, 'SIGKILL');
      worker = spawnCliWorker(setup);
      const result = await handle.result();

      expect(result).toMatchObject({ totalRows: 300, read: 300, accepted: 300, rejected: 0 });
      const stored = setup.simulator.leads();
      expect(stored).toHaveLength(300);
      expect(new Set(stored.map((lead) => lead.email))).toEqual(new Set(rows.map((r) => r.EmailAddress.toLowerCase())));
      // The chunks the killed worker had under way are sent again whole by their next try: only their leads twice.
      const writes = auditWrites(setup.simulator, 'lead', { ended: [killed] });
      expect(writes.duplicates).toEqual([]);
      expect([...writes.times.keys()].sort()).toEqual([...onceEach(rows.map((r) => r.EmailAddress)).keys()].sort());
    } finally {
      await stopChild(worker);
      await setup.simulator.stop();
    }
  }, 240_000);
});
