import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { loadConfig, type LoadedConfig } from '../../src/config/accounts.js';
import { type Window } from '../../src/core/plans.js';
import {
  startSmartLeadSimulator,
  type RunningSmartLeadSimulator,
  type SmartLeadSimulatorOptions,
} from '../../src/vendors/smartlead/simulator/server.js';
import { uniqueName, uniqueTaskQueue } from './temporal.js';
import { SMARTLEAD_PLANS } from '../../src/vendors/smartlead/plans.js';
import { startSync } from '../../src/api/syncs.js';
import type { SyncInput } from '../../src/core/contract.js';
import { campaignLeadKey } from '../../src/vendors/smartlead/simulator/store.js';
import { cleanupsAfterEach } from './cleanups.js';
import { startTestWorker, testClientFixture, writeCsv } from './sync-harness.js';
import { onceEach } from './write-counts.js';
import { keepAliveTransport, type Transport } from '../../src/vendors/transport.js';

export interface SmartLeadAccountSetup {
  /** A plan of the seed's table; the simulator enforces it, shrunk by `timeScale`. */
  plan: 'standard' | 'pro';
  /** Simulated seconds per real second: windows (in the simulator and in the account's config alike) shrink by it. */
  timeScale?: number;
  /** Windows the account's config names instead of the plan's: a plan that is wrong about the vendor. */
  configuredWindows?: Window[];
  /** Windows the simulator enforces instead of the plan's (shrunk by timeScale too). */
  simulatorWindows?: Window[];
  /** Rows per call, when a test needs many calls without many rows. */
  rowsPerCall?: number;
  simulator?: Partial<SmartLeadSimulatorOptions>;
}

/** A SmartLead account on a fresh simulator with one campaign, a config file naming it, and its key in the env. */
export interface SmartLeadSetup {
  accountName: string;
  campaignId: number;
  configPath: string;
  config: LoadedConfig;
  directory: string;
  simulator: RunningSmartLeadSimulator;
  /** The plan's windows as this account runs them: shrunk by the time scale. */
  windows: Window[];
  /** The environment a worker process needs: the credential the config names. */
  env: Record<string, string>;
  taskQueue: string;
}

export async function smartLeadAccount(setup: SmartLeadAccountSetup): Promise<SmartLeadSetup> {
  const timeScale = setup.timeScale ?? 1;
  const scaled = (windows: readonly Window[]) => windows.map((w) => ({ ...w, seconds: w.seconds / timeScale }));
  const planWindows = SMARTLEAD_PLANS[setup.plan]!.lanes.general!.windows;
  const windows = scaled(setup.configuredWindows ?? planWindows);
  const accountName = uniqueName('sl');
  const apiKey = uniqueName('key');
  const simulator = await startSmartLeadSimulator({
    plan: setup.simulatorWindows ? { windows: setup.simulatorWindows } : setup.plan,
    apiKey,
    timeScale,
    campaigns: [{ name: 'leadsync test' }],
    ...setup.simulator,
  });
  const campaignId = simulator.campaigns()[0]!.id;
  const variable = `${accountName.replace(/[^A-Za-z0-9]/g, '_').toUpperCase()}_API_KEY`;
  const env = { [variable]: apiKey };
  Object.assign(process.env, env);
  const directory = await mkdtemp(join(tmpdir(), 'leadsync-test-'));
  const configPath = join(directory, 'leadsync.yaml');
  const custom = timeScale !== 1 || setup.configuredWindows !== undefined;
  await writeFile(
    configPath,
    toYaml({
      accounts: {
        [accountName]: {
          vendor: 'smartlead',
          // A time-scaled account is a custom plan: the same windows, shrunk as the simulator shrinks them.
          plan: custom ? 'custom' : setup.plan,
          baseUrl: simulator.baseUrl,
          credentials: { apiKeyEnv: variable },
          lanes: {
            general: {
              ...(custom ? { windows } : {}),
              rowsPerCall: setup.rowsPerCall ?? 400,
            },
          },
        },
      },
      rejects: { directory: join(directory, 'rejects') },
    }),
  );
  return {
    accountName,
    campaignId,
    configPath,
    config: await loadConfig(configPath),
    directory,
    simulator,
    windows,
    env,
    taskQueue: uniqueTaskQueue('sync'),
  };
}

/** SmartLead's field names: `email` and its own lead fields. */
export const SMARTLEAD_HEADER = ['email', 'first_name', 'last_name'];

export function smartLeadLines(count: number, prefix = uniqueName('lead')): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${i + 1}@example.com,First${i + 1},Last${i + 1}`);
}

/** What the worker's vendor client was answered, as it saw it: the simulator's log has no headers. */
export interface Answered {
  at: number;
  status: number;
  retryAfter: string | null;
}

/**
 * What the tests of a SmartLead sync file share: a client, accounts each on a simulator of its own with a worker in
 * this process (stopped after each test, with whatever else a test pushes on `cleanups`), and syncs of CSV lines.
 */
export function smartLeadSyncFixture() {
  const shared = testClientFixture();
  const cleanups = cleanupsAfterEach();

  /** An account on its own simulator with a worker in this process; `answers` collects what the vendor said. */
  async function account(options: SmartLeadAccountSetup) {
    const setup = await smartLeadAccount(options);
    cleanups.push(() => setup.simulator.stop());
    const answers: Answered[] = [];
    const recording: Transport = async (request) => {
      const response = await keepAliveTransport(request);
      answers.push({ at: Date.now(), status: response.status, retryAfter: response.headers.get('retry-after') });
      return response;
    };
    const worker = await startTestWorker(setup, undefined, { transport: recording });
    cleanups.push(() => worker.stop());
    return { setup, answers };
  }

  async function sync(setup: SmartLeadSetup, lines: string[], input: Partial<SyncInput> = {}) {
    const file = await writeCsv(setup.directory, `${uniqueName('leads')}.csv`, SMARTLEAD_HEADER, lines);
    const handle = await startSync(
      shared.client,
      {
        account: setup.accountName,
        source: { kind: 'csv', path: file },
        target: { campaignId: setup.campaignId },
        ...input,
      },
      { taskQueue: setup.taskQueue },
    );
    return { handle, result: await handle.result() };
  }

  return { account, sync, cleanups };
}

export function storedEmails(setup: SmartLeadSetup): string[] {
  return setup.simulator.leads(setup.campaignId).map((lead) => lead.email.toLowerCase());
}

/** Each of the lines' leads sent once to the setup's campaign: the writes when nothing needed sending again. */
export function onceEachLine(setup: SmartLeadSetup, lines: readonly string[]): Map<string, number> {
  return onceEach(lines.map((line) => campaignLeadKey(setup.campaignId, line.split(',')[0]!)));
}
