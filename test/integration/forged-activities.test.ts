import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WorkflowFailedError, type Client, type Connection } from '@temporalio/client';
import { Worker, type NativeConnection } from '@temporalio/worker';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { loadConfig } from '../../src/config/accounts.js';
import { laneTaskQueue } from '../../src/core/task-queues.js';
import {
  startLeadSquaredSimulator,
  type RunningLeadSquaredSimulator,
} from '../../src/vendors/leadsquared/simulator/server.js';
import type { ScanResult } from '../../src/sources/source.js';
import { syncFileName } from '../../src/rejects/files.js';
import { LeadsyncWorker } from '../../src/worker/worker.js';
import { LeadsTable, TEST_POSTGRES_URL } from '../helpers/postgres-table.js';
import { testClient, workflowBundle } from '../helpers/sync-harness.js';
import { connectTestWorker, testTemporal, uniqueName, uniqueTaskQueue } from '../helpers/temporal.js';

/**
 * Write access to the namespace is enough to run a worker of one's own, whose workflow schedules leadsync's
 * activities by name on leadsync's queues: their arguments never passed a leadsync workflow's checks. Each activity
 * must check its own, before anything is read, written or queried.
 */
describe('activities scheduled by a workflow that is not leadsync', () => {
  const name = uniqueName('forged');
  const variable = (what: string) => `${name}_${what}`.replace(/[^A-Za-z0-9]/g, '_').toUpperCase();
  const accessKey = uniqueName('access');
  const secretKey = uniqueName('secret');
  const account = `${name}-lsq`;
  const taskQueue = uniqueTaskQueue('forged');
  const forgerQueue = uniqueTaskQueue('forger');
  let directory: string;
  let data: string;
  let rejectsDirectory: string;
  let leadsquared: RunningLeadSquaredSimulator;
  let worker: LeadsyncWorker;
  let running: Promise<void>;
  let forger: Worker;
  let forging: Promise<void>;
  let forgerConnection: NativeConnection;
  let client: Client;
  let connection: Connection;
  let admin: pg.Client;
  let allowed: LeadsTable;
  let victim: LeadsTable;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'leadsync-forged-'));
    data = join(directory, 'data');
    rejectsDirectory = join(directory, 'rejects');
    await Promise.all([mkdir(data), mkdir(join(directory, 'config'))]);
    admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
    allowed = await LeadsTable.create(admin, 'leadsync_forged_allowed');
    victim = await LeadsTable.create(admin, 'leadsync_forged_victim');
    await allowed.upsert(1, 3, '2024-01-01T00:00:00Z', 'v1');
    leadsquared = await startLeadSquaredSimulator({ plan: 'enterprise', accessKey, secretKey });
    Object.assign(process.env, { [variable('access')]: accessKey, [variable('secret')]: secretKey });
    const configPath = join(directory, 'config', 'leadsync.yaml');
    await writeFile(
      configPath,
      toYaml({
        accounts: {
          [account]: {
            vendor: 'leadsquared',
            plan: 'enterprise',
            baseUrl: leadsquared.baseUrl,
            credentials: { accessKeyEnv: variable('access'), secretKeyEnv: variable('secret') },
          },
        },
        sources: {
          files: { roots: ['../data'] },
          // A whole schema, as docs/security.md allows: the table's name is all that keeps a sync to it.
          postgres: { testdb: { url: TEST_POSTGRES_URL, tables: ['public.*'] } },
        },
        rejects: { directory: rejectsDirectory },
      }),
    );
    worker = await LeadsyncWorker.create({
      config: await loadConfig(configPath),
      ...testTemporal(),
      taskQueue,
      workflowBundle: await workflowBundle(),
    });
    running = worker.run();
    forgerConnection = await connectTestWorker();
    forger = await Worker.create({
      connection: forgerConnection,
      namespace: testTemporal().namespace,
      taskQueue: forgerQueue,
      workflowsPath: fileURLToPath(new URL('./fixtures/forger-workflow.ts', import.meta.url)),
    });
    forging = forger.run();
    ({ client, connection } = await testClient());
  });

  afterAll(async () => {
    forger?.shutdown();
    await forging;
    await forgerConnection?.close();
    worker?.shutdown();
    await running;
    await connection?.close();
    await leadsquared?.stop();
    await allowed?.drop();
    await victim?.drop();
    await admin?.end();
  });

  const forge = (activity: string, queue: string, argument: unknown, workflowId = uniqueName('forger')) =>
    client.workflow.execute('forgerWorkflow', {
      taskQueue: forgerQueue,
      workflowId,
      args: [activity, queue, argument],
      workflowExecutionTimeout: '2 minutes',
    });

  /** The innermost cause of the forger's failure: what the leadsync activity answered. */
  const refusal = async (result: Promise<unknown>): Promise<string> => {
    const error = await result.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(WorkflowFailedError);
    let cause: Error | undefined = (error as WorkflowFailedError).cause;
    while (cause?.cause instanceof Error) cause = cause.cause;
    return cause?.message ?? '';
  };

  const tableExists = async (table: string) =>
    (await admin.query<{ found: string | null }>('SELECT to_regclass($1)::text AS found', [table])).rows[0]?.found;

  it('refuses a table name carrying SQL, and runs none of it', async () => {
    const source = {
      kind: 'postgres',
      connection: 'testdb',
      table: `public.${allowed.name}"; DROP TABLE ${victim.name}; --`,
      key: 'id',
    };

    const message = await refusal(
      forge('scanChunks', taskQueue, { source, cursor: { position: null, nextRow: 1 }, sizes: [10] }),
    );

    expect(await tableExists(victim.name)).toBe(victim.name);
    expect(message).toMatch(/invalid scanChunks argument:\s+- source\.table: must be a table or view name/);
  });

  it('refuses a chunk whose first row is a path, and writes nothing outside the rejects directory', async () => {
    await writeFile(join(data, 'leads.csv'), 'EmailAddress,FirstName\nnot-an-email,A\nalso-not-one,B\n');
    const source = { kind: 'csv', path: join(data, 'leads.csv') };
    // A real scan of the file, by the forger: its arguments are valid, and it cuts the range the chunk forges on.
    const scan = (await forge('scanChunks', taskQueue, {
      source,
      cursor: { position: null, nextRow: 1 },
      sizes: [10],
    })) as ScanResult;
    const chunk = scan.chunks[0]!;
    const workflowId = uniqueName('forger');
    const task = {
      syncId: workflowId,
      account,
      lane: 'general',
      records: 'leads',
      source,
      target: {},
      share: 1,
      chunk: { ...chunk, firstRow: '../../escaped' },
    };

    const message = await refusal(
      forge('pushChunk', laneTaskQueue('leadsquared', account, 'general'), task, workflowId),
    );

    expect(await readdir(directory)).not.toContain('escaped.ndjson');
    expect(message).toMatch(/invalid pushChunk argument:\s+- chunk\.firstRow: /);
  });

  it("refuses a chunk that names another sync, and writes nothing into that sync's rejects", async () => {
    await writeFile(join(data, 'other.csv'), 'EmailAddress,FirstName\nnot-an-email,A\n');
    const source = { kind: 'csv', path: join(data, 'other.csv') };
    const scan = (await forge('scanChunks', taskQueue, {
      source,
      cursor: { position: null, nextRow: 1 },
      sizes: [10],
    })) as ScanResult;
    const victimSync = uniqueName('victim-sync');
    const task = { syncId: victimSync, account, lane: 'general', source, target: {}, share: 1, chunk: scan.chunks[0]! };

    const message = await refusal(forge('pushChunk', laneTaskQueue('leadsquared', account, 'general'), task));

    expect(message).toMatch(/invalid pushChunk argument: syncId must be the id of the workflow that schedules it/);
    await expect(readdir(join(rejectsDirectory, syncFileName(victimSync)))).rejects.toThrow(/ENOENT/);
  });
});
