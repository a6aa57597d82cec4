import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSync } from '../../src/api/syncs.js';
import { workerRedactor } from '../../src/config/secrets.js';
import { JsonLogger } from '../../src/observability/logger.js';
import { installRuntime } from '../../src/observability/runtime.js';
import {
  LEAD_HEADER,
  csvLines,
  leadRows,
  leadSquaredAccount,
  startTestWorker,
  testClient,
  writeCsv,
  type LeadSquaredSetup,
} from '../helpers/sync-harness.js';

interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

/**
 * An operator reading a worker's log sees why a sync slowed or its rows split: each decision of the hot path is a
 * line, with the sync, account, lane and chunk it is about, and no secret.
 */
describe("a worker's log of the decisions it makes", () => {
  const lines: string[] = [];
  let setup: LeadSquaredSetup;
  let worker: { stop(): Promise<void> } | undefined;

  beforeAll(async () => {
    // Configured as Enterprise against a vendor enforcing Pro and taking 25 leads a bulk call: refusals for rate,
    // a lane cut to what the vendor leaves, and bulk calls split to the size the vendor names.
    setup = await leadSquaredAccount({ plan: 'enterprise', simulator: { plan: 'pro', leadsPerBulkCall: 25 } });
    installRuntime({
      logger: new JsonLogger({
        level: 'DEBUG',
        redactor: workerRedactor(setup.config, { ...process.env, ...setup.env }),
        sink: { write: (line) => lines.push(line) },
      }),
    });
    worker = await startTestWorker(setup);
  });

  afterAll(async () => {
    await worker?.stop();
    await setup?.simulator.stop();
  });

  it('says when the vendor refused a call, when a call split and when a window was cut, and never a key', async () => {
    const file = await writeCsv(setup.directory, 'leads.csv', LEAD_HEADER, csvLines(leadRows(150)));
    const { client, connection } = await testClient();
    try {
      // High priority: its calls are granted windows ahead, so calls granted before the first refusal run into the
      // vendor's window again after the pause, and the window is cut. (A normal sync holds a quarter window ahead: it
      // takes the window the vendor's refusal names before its next calls are granted, and is not refused again.)
      const handle = await startSync(
        client,
        { account: setup.accountName, source: { kind: 'csv', path: file }, priority: 'high' },
        { taskQueue: setup.taskQueue },
      );
      expect(await handle.result()).toMatchObject({ read: 150, accepted: 150 });

      const logged = lines.map((line) => JSON.parse(line) as LogLine);
      const about = (text: string) => logged.filter((line) => line.msg.includes(text));
      const chunk = { syncId: handle.workflowId, account: setup.accountName, chunkFirstRow: expect.any(Number) };
      expect(about('refused a call for rate')[0]).toMatchObject({ ...chunk, retryAfterMs: 5_000 });
      expect(about('splitting it')[0]).toMatchObject({ ...chunk, lane: 'bulk', size: 25, statedMaximum: 25 });
      expect(about('window is cut')[0]).toMatchObject({ account: setup.accountName, lane: 'general', seconds: 5 });
      for (const secret of Object.values(setup.env)) expect(lines.join('\n')).not.toContain(secret);
    } finally {
      await connection.close();
    }
  }, 240_000);
});
