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
