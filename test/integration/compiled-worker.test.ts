import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../../bin/compiled-tree.js';
import { startSync } from '../../src/api/syncs.js';
import { PAYLOAD_KEY_ENV, dataConverterFromEnv } from '../../src/temporal/codec.js';
import { REPO_ROOT } from '../helpers/run-cli.js';
import {
  LEAD_HEADER,
  csvLines,
  leadRows,
  leadSquaredAccount,
  stopChild,
  writeCsv,
  type LeadSquaredSetup,
} from '../helpers/sync-harness.js';
import { testTemporal } from '../helpers/temporal.js';

// The one test that builds dist/ (when it is not fresh: a tsc run of 10-60 s): the other tests run the TypeScript.
describe("the compiled worker (`npm run build`, the Dockerfile's entry point)", () => {
  // A payload key: the worker then bundles the workflows with the keyed converters, a .cjs file tsc does not emit.
  const key = randomBytes(32).toString('base64');
  let setup: LeadSquaredSetup;
  let worker: ChildProcess | undefined;
  let connection: Connection | undefined;
  const logged: string[] = [];

  beforeAll(async () => {
    const cli = ensureBuilt();
    setup = await leadSquaredAccount({ plan: 'enterprise' });
    // No tsx: a module of the compiled tree that reached for a .ts file, or for tsx's loader, fails here.
    worker = spawn(process.execPath, [cli, 'worker', '--config', setup.configPath, '--task-queue', setup.taskQueue], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...setup.env, TEMPORAL_ADDRESS: testTemporal().address, [PAYLOAD_KEY_ENV]: key },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    worker.stderr!.on('data', (data: Buffer) => logged.push(data.toString('utf8')));
    connection = await Connection.connect({ address: testTemporal().address });
  }, 180_000);

  afterAll(async () => {
    if (worker) await stopChild(worker);
    await connection?.close();
    await setup?.simulator.stop();
  });

  it('runs from dist/ and syncs, its workflows bundled from the compiled JavaScript with the keyed converters', async () => {
    const rows = leadRows(20);
    const file = await writeCsv(setup.directory, 'leads.csv', LEAD_HEADER, csvLines(rows));
    const client = new Client({
      connection: connection!,
      namespace: testTemporal().namespace,
      dataConverter: dataConverterFromEnv({ [PAYLOAD_KEY_ENV]: key }),
    });
    const handle = await startSync(
      client,
      { account: setup.accountName, source: { kind: 'csv', path: file } },
      { taskQueue: setup.taskQueue },
    );
    // A compiled tree missing a file the worker loads by path stops the worker at start: fail then, with its log.
    const died = once(worker!, 'exit').then(([code]) => {
      throw new Error(`the compiled worker exited (${String(code)}):\n${logged.join('')}`);
    });
    const result = await Promise.race([handle.result(), died]);

    expect(result.accepted, logged.join('')).toBe(20);
    expect(setup.simulator.leads().map((lead) => lead.email)).toEqual(
      expect.arrayContaining(rows.map((row) => row.EmailAddress)),
    );
  });
});
