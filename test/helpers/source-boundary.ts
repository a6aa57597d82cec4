import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import {
  startLeadSquaredSimulator,
  type RunningLeadSquaredSimulator,
} from '../../src/vendors/leadsquared/simulator/server.js';
import { startConfiguredWorker, type ConfiguredWorker } from './configured-worker.js';
import { LeadsTable, TEST_POSTGRES_URL } from './postgres-table.js';
import { uniqueName, uniqueTaskQueue } from './temporal.js';

/**
 * A LeadSquared account whose worker may read files only under `data` and, of the test database, only the tables
 * the config lists: the boundary a workflow's input must stay inside. `listed` holds three rows; `unlisted` is
 * empty until the test fills it.
 */
export interface SourceBoundary {
  name: string;
  account: string;
  taskQueue: string;
  directory: string;
  /** The one root sources may be read from. */
  data: string;
  rejectsDirectory: string;
  leadsquared: RunningLeadSquaredSimulator;
  client: Client;
  admin: pg.Client;
  listed: LeadsTable;
  unlisted: LeadsTable;
}

export interface SourceBoundaryOptions {
  /** What names the account, task queue and tables. */
  prefix: string;
  /** The config's table list of the test database, given the listed table's name. */
  tables: (listed: string) => string[];
}

/**
 * Sets up (beforeAll) and tears down (afterAll) the boundary. The names are there at once; the rest is filled in
 * before the first test runs.
 */
export function sourceBoundaryFixture({ prefix, tables }: SourceBoundaryOptions): SourceBoundary {
  const name = uniqueName(prefix);
  const boundary = { name, account: `${name}-lsq`, taskQueue: uniqueTaskQueue(prefix) } as SourceBoundary;
  let worker: ConfiguredWorker | undefined;
  beforeAll(async () => {
    const variable = (what: string) => `${name}_${what}`.replace(/[^A-Za-z0-9]/g, '_').toUpperCase();
    const accessKey = uniqueName('access');
    const secretKey = uniqueName('secret');
    boundary.directory = await mkdtemp(join(tmpdir(), `leadsync-${prefix}-`));
    boundary.data = join(boundary.directory, 'data');
    boundary.rejectsDirectory = join(boundary.directory, 'rejects');
    await Promise.all([mkdir(boundary.data), mkdir(join(boundary.directory, 'config'))]);
    boundary.admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await boundary.admin.connect();
    boundary.listed = await LeadsTable.create(boundary.admin, `leadsync_${prefix}_listed`);
    boundary.unlisted = await LeadsTable.create(boundary.admin, `leadsync_${prefix}_unlisted`);
    await boundary.listed.upsert(1, 3, '2024-01-01T00:00:00Z', 'v1');
    boundary.leadsquared = await startLeadSquaredSimulator({ plan: 'enterprise', accessKey, secretKey });
    Object.assign(process.env, { [variable('access')]: accessKey, [variable('secret')]: secretKey });
    worker = await startConfiguredWorker(
      join(boundary.directory, 'config', 'leadsync.yaml'),
      {
        accounts: {
          [boundary.account]: {
            vendor: 'leadsquared',
            plan: 'enterprise',
            baseUrl: boundary.leadsquared.baseUrl,
            credentials: { accessKeyEnv: variable('access'), secretKeyEnv: variable('secret') },
          },
        },
        sources: {
          files: { roots: ['../data'] },
          postgres: { testdb: { url: TEST_POSTGRES_URL, tables: tables(boundary.listed.name) } },
        },
        rejects: { directory: boundary.rejectsDirectory },
      },
      boundary.taskQueue,
    );
    boundary.client = worker.client;
  });
  afterAll(async () => {
    await worker?.stop();
    await boundary.leadsquared?.stop();
    await boundary.listed?.drop();
    await boundary.unlisted?.drop();
    await boundary.admin?.end();
  });
  return boundary;
}
