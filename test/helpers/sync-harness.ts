import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client, Connection, TLSConfig } from '@temporalio/client';
import { bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { stringify as toYaml } from 'yaml';
import { afterAll, beforeAll, inject } from 'vitest';
import { startSync, type SyncHandle } from '../../src/api/syncs.js';
import { loadConfig, type LoadedConfig } from '../../src/config/accounts.js';
import {
  startLeadSquaredSimulator,
  type LeadSquaredSimulatorOptions,
  type RunningLeadSquaredSimulator,
} from '../../src/vendors/leadsquared/simulator/server.js';
import { KEYED_CONVERTERS_PATH } from '../../src/temporal/codec.js';
import { LeadsyncWorker, WORKFLOWS_PATH, type LeadsyncWorkerOptions } from '../../src/worker/worker.js';
import { cliWorkerArguments } from './cli-worker.js';
import { quietLogger } from './run-bundle.js';
import { connectTestClient, testTemporal, uniqueName, uniqueTaskQueue } from './temporal.js';

let bundle: Promise<WorkflowBundle> | undefined;

/** The workflows as the run's global setup bundled them (run-bundle.ts), read once per test file. */
export function workflowBundle(): Promise<WorkflowBundle> {
  bundle ??= readFile(inject('workflowBundlePath'), 'utf8').then((code) => ({ code }));
  return bundle;
}

let encryptingBundle: Promise<WorkflowBundle> | undefined;

/** The bundle of a worker holding a payload key: the workflows' failures are encrypted too. */
export function encryptingWorkflowBundle(): Promise<WorkflowBundle> {
  encryptingBundle ??= bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    payloadConverterPath: KEYED_CONVERTERS_PATH,
    failureConverterPath: KEYED_CONVERTERS_PATH,
    logger: quietLogger,
  });
  return encryptingBundle;
}

export interface LeadSquaredAccountSetup {
  /** The plan the account's config names. */
  plan: string;
  /** What the simulator enforces, when it differs from the configured plan. */
  simulator?: Partial<LeadSquaredSimulatorOptions>;
  /** Raw account keys merged over the defaults (e.g. pacing). */
  account?: Record<string, unknown>;
}

/** A LeadSquared account on a fresh simulator, a config file naming it, and the keys in this process's environment. */
export interface LeadSquaredSetup {
  accountName: string;
  configPath: string;
  config: LoadedConfig;
  directory: string;
  simulator: RunningLeadSquaredSimulator;
  /** The environment a worker process needs: the credentials the config names. */
  env: Record<string, string>;
  taskQueue: string;
}

export async function leadSquaredAccount(setup: LeadSquaredAccountSetup): Promise<LeadSquaredSetup> {
  const accountName = uniqueName('lsq');
  const accessKey = `u$${uniqueName('access')}`;
  const secretKey = uniqueName('secret');
  const simulator = await startLeadSquaredSimulator({ plan: setup.plan, accessKey, secretKey, ...setup.simulator });
  const variable = accountName.replace(/[^A-Za-z0-9]/g, '_').toUpperCase();
  const env = { [`${variable}_ACCESS_KEY`]: accessKey, [`${variable}_SECRET_KEY`]: secretKey };
  Object.assign(process.env, env);
  const directory = await mkdtemp(join(tmpdir(), 'leadsync-test-'));
  const configPath = join(directory, 'leadsync.yaml');
  await writeFile(
    configPath,
    toYaml({
      accounts: {
        [accountName]: {
          vendor: 'leadsquared',
          plan: setup.plan,
          baseUrl: simulator.baseUrl,
          credentials: { accessKeyEnv: `${variable}_ACCESS_KEY`, secretKeyEnv: `${variable}_SECRET_KEY` },
          ...setup.account,
        },
      },
      rejects: { directory: join(directory, 'rejects') },
    }),
  );
  return {
    accountName,
    configPath,
    config: await loadConfig(configPath),
    directory,
    simulator,
    env,
    taskQueue: uniqueTaskQueue('sync'),
  };
}

/**
 * A worker inside the test process, on the setup's queues, on the run's shared server unless told another (a
 * cluster of the test's own, with its TLS); stop it in afterAll.
 */
export async function startTestWorker(
  setup: Pick<LeadSquaredSetup, 'config' | 'taskQueue'>,
  temporal: { address: string; namespace: string; tls?: TLSConfig } = testTemporal(),
  /** Another bundle (an encrypting one), the environment it reads secrets from, a transport that records, its vendors. */
  options: Pick<LeadsyncWorkerOptions, 'workflowBundle' | 'env' | 'transport' | 'vendors'> = {},
): Promise<{ stop(): Promise<void> }> {
  const worker = await LeadsyncWorker.create({
    config: setup.config,
    address: temporal.address,
    namespace: temporal.namespace,
    tls: temporal.tls,
    taskQueue: setup.taskQueue,
    workflowBundle: await workflowBundle(),
    ...options,
  });
  const running = worker.run();
  return {
    async stop() {
      worker.shutdown();
      await running;
    },
  };
}

export async function testClient(): Promise<{ client: Client; connection: Connection }> {
  return connectTestClient();
}

/** A client the test file's tests share, connected in beforeAll and closed in afterAll: read it inside tests. */
export function testClientFixture(): { client: Client } {
  const fixture = {} as { client: Client };
  let connection: Connection | undefined;
  beforeAll(async () => {
    ({ client: fixture.client, connection } = await testClient());
  });
  afterAll(async () => {
    await connection?.close();
  });
  return fixture;
}

export interface LeadRow {
  EmailAddress: string;
  FirstName: string;
  LastName: string;
}

export function leadRows(count: number, prefix = uniqueName('lead')): LeadRow[] {
  return Array.from({ length: count }, (_, i) => ({
    EmailAddress: `${prefix}-${i + 1}@example.com`,
    FirstName: `First${i + 1}`,
    LastName: `Last${i + 1}`,
  }));
}

/** Writes rows (or raw lines, for malformed input) as a CSV file with a header. */
export async function writeCsv(directory: string, name: string, header: string[], lines: string[]): Promise<string> {
  const path = join(directory, name);
  await writeFile(path, [header.join(','), ...lines].join('\n') + '\n');
  return path;
}

export function csvLines(rows: LeadRow[]): string[] {
  return rows.map((r) => `${r.EmailAddress},${r.FirstName},${r.LastName}`);
}

export const LEAD_HEADER = ['EmailAddress', 'FirstName', 'LastName'];

/** Starts a sync of `rows`, written to a CSV file in the setup's directory, into the setup's account on its queue. */
export async function startLeadsSync(client: Client, setup: LeadSquaredSetup, rows: LeadRow[]): Promise<SyncHandle> {
  const file = await writeCsv(setup.directory, 'leads.csv', LEAD_HEADER, csvLines(rows));
  return startSync(
    client,
    { account: setup.accountName, source: { kind: 'csv', path: file } },
    { taskQueue: setup.taskQueue },
  );
}

/**
 * A `leadsync worker` child process on the setup's queues, as a user would run it; kill it to test recovery. Its vendor
 * requests name it (tag-senders.ts). `env` comes last: another cluster's TEMPORAL_ADDRESS, its TLS variables.
 */
export function spawnCliWorker(setup: LeadSquaredSetup, env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, cliWorkerArguments(setup.configPath, setup.taskQueue), {
    env: { ...process.env, ...setup.env, TEMPORAL_ADDRESS: testTemporal().address, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.resume();
  return child;
}

export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}

/** What a test file's tests share: a LeadSquared account on its own simulator, a worker for it, and a client. */
export interface LeadSquaredSyncFixture {
  setup: LeadSquaredSetup;
  client: Client;
}

/**
 * Sets up (beforeAll) and tears down (afterAll) a LeadSquared account with its worker and a client. The fields are
 * filled in before the first test runs: read them inside tests, not at the top of the file.
 */
export function leadSquaredSyncFixture(
  account: LeadSquaredAccountSetup,
  /** Changes the account's config before the worker reads it (e.g. `withTestDatabase`). */
  configure: (setup: LeadSquaredSetup) => Promise<LeadSquaredSetup> = async (setup) => setup,
): LeadSquaredSyncFixture {
  const fixture = {} as LeadSquaredSyncFixture;
  let worker: { stop(): Promise<void> } | undefined;
  let connection: Connection | undefined;
  beforeAll(async () => {
    fixture.setup = await configure(await leadSquaredAccount(account));
    worker = await startTestWorker(fixture.setup);
    ({ client: fixture.client, connection } = await testClient());
  });
  afterAll(async () => {
    await worker?.stop();
    await connection?.close();
    await fixture.setup?.simulator.stop();
  });
  return fixture;
}
