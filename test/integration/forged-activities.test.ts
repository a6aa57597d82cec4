import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { laneTaskQueue } from '../../src/core/task-queues.js';
import type { ScanResult } from '../../src/sources/source.js';
import { syncFileName } from '../../src/rejects/files.js';
import { sourceBoundaryFixture } from '../helpers/source-boundary.js';
import { connectTestWorker, testTemporal, uniqueName, uniqueTaskQueue } from '../helpers/temporal.js';
import { workflowFailure } from '../helpers/workflow-failure.js';

/**
 * Write access to the namespace is enough to run a worker of one's own, whose workflow schedules leadsync's
 * activities by name on leadsync's queues: their arguments never passed a leadsync workflow's checks. Each activity
 * must check its own, before anything is read, written or queried.
 */
describe('activities scheduled by a workflow that is not leadsync', () => {
  // A whole schema, as docs/security.md allows: the table's name is all that keeps a sync to it.
  const boundary = sourceBoundaryFixture({ prefix: 'forged', tables: () => ['public.*'] });
  const { account, taskQueue } = boundary;
  const forgerQueue = uniqueTaskQueue('forger');
  let forger: Worker;
  let forging: Promise<void>;
  let forgerConnection: NativeConnection;

  beforeAll(async () => {
    forgerConnection = await connectTestWorker();
    forger = await Worker.create({
      connection: forgerConnection,
      namespace: testTemporal().namespace,
      taskQueue: forgerQueue,
      workflowsPath: fileURLToPath(new URL('./fixtures/forger-workflow.ts', import.meta.url)),
    });
    forging = forger.run();
  });

  afterAll(async () => {
    forger?.shutdown();
    await forging;
    await forgerConnection?.close();
  });

  const forge = (activity: string, queue: string, argument: unknown, workflowId = uniqueName('forger')) =>
    boundary.client.workflow.execute('forgerWorkflow', {
      taskQueue: forgerQueue,
      workflowId,
      args: [activity, queue, argument],
      workflowExecutionTimeout: '2 minutes',
    });

  /** The innermost cause of the forger's failure: what the leadsync activity answered. */
  const refusal = async (result: Promise<unknown>): Promise<string> => (await workflowFailure(result)).message;

  const tableExists = async (table: string) =>
    (await boundary.admin.query<{ found: string | null }>('SELECT to_regclass($1)::text AS found', [table])).rows[0]
      ?.found;

  it('refuses a table name carrying SQL, and runs none of it', async () => {
    const source = {
      kind: 'postgres',
      connection: 'testdb',
      table: `public.${boundary.listed.name}"; DROP TABLE ${boundary.unlisted.name}; --`,
      key: 'id',
    };

    const message = await refusal(
      forge('scanChunks', taskQueue, { source, cursor: { position: null, nextRow: 1 }, sizes: [10] }),
    );

    expect(await tableExists(boundary.unlisted.name)).toBe(boundary.unlisted.name);
    expect(message).toMatch(/invalid scanChunks argument:\s+- source\.table: must be a table or view name/);
  });

  it('refuses a chunk whose first row is a path, and writes nothing outside the rejects directory', async () => {
    await writeFile(join(boundary.data, 'leads.csv'), 'EmailAddress,FirstName\nnot-an-email,A\nalso-not-one,B\n');
    const source = { kind: 'csv', path: join(boundary.data, 'leads.csv') };
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

    expect(await readdir(boundary.directory)).not.toContain('escaped.ndjson');
    expect(message).toMatch(/invalid pushChunk argument:\s+- chunk\.firstRow: /);
  });

  it("refuses a chunk that names another sync, and writes nothing into that sync's rejects", async () => {
    await writeFile(join(boundary.data, 'other.csv'), 'EmailAddress,FirstName\nnot-an-email,A\n');
    const source = { kind: 'csv', path: join(boundary.data, 'other.csv') };
    const scan = (await forge('scanChunks', taskQueue, {
      source,
      cursor: { position: null, nextRow: 1 },
      sizes: [10],
    })) as ScanResult;
    const victimSync = uniqueName('victim-sync');
    const task = { syncId: victimSync, account, lane: 'general', source, target: {}, share: 1, chunk: scan.chunks[0]! };

    const message = await refusal(forge('pushChunk', laneTaskQueue('leadsquared', account, 'general'), task));

    expect(message).toMatch(/invalid pushChunk argument: syncId must be the id of the workflow that schedules it/);
    await expect(readdir(join(boundary.rejectsDirectory, syncFileName(victimSync)))).rejects.toThrow(/ENOENT/);
  });
});
