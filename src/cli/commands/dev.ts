import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { Client } from '@temporalio/client';
import type { Command } from 'commander';
import { startSync } from '../../api/syncs.js';
import type { LoadedConfig } from '../../config/accounts.js';
import { credentialSources, resolveCredentials } from '../../config/credentials.js';
import { workerRedactor } from '../../config/secrets.js';
import { readEnvironment } from '../../config/environment.js';
import { ConfigError } from '../../core/errors.js';
import { JsonLogger } from '../../observability/logger.js';
import { installRuntime } from '../../observability/runtime.js';
import type { RunningSimulator } from '../../simulation/simulator.js';
import { PACKAGE_ROOT } from '../../../tools/code-tree.js';
import { existingTemporalCluster, startDevServer, type TemporalEndpoint } from '../../../tools/temporal/dev-server.js';
import { LEADSYNC_SEARCH_ATTRIBUTES } from '../../core/search-attributes.js';
import { VENDORS, type VendorRegistry } from '../../vendors/registry.js';
import { LeadsyncWorker } from '../../worker/worker.js';
import { followProgress, summary } from '../follow.js';
import { loadCliConfig } from '../config-path.js';
import { webUiLink } from '../temporal-connection.js';
import { dataConverterFromEnv } from '../../temporal/codec.js';
import { connectClient, temporalConnectionSettings } from '../../temporal/connection.js';

const EXAMPLES = resolve(PACKAGE_ROOT, 'examples');

interface DevOptions {
  config?: string;
  account: string;
  file: string;
  dataDir: string;
  port: string;
  uiPort: string;
  exit?: boolean;
}

export function registerDev(program: Command): void {
  program
    .command('dev')
    .description(
      'everything on one machine: a Temporal dev server with its Web UI, simulators for accounts without credentials, ' +
        'a worker, and a sync of a sample file',
    )
    .option('--config <path>', 'config file (default: $LEADSYNC_CONFIG, else examples/leadsync.yaml)')
    .option('--account <name>', 'account to sync into', 'demo')
    .option('--file <path>', 'file to sync', resolve(EXAMPLES, 'leads.csv'))
    .option('--data-dir <path>', 'where the dev server keeps its database between runs', '.leadsync/dev')
    .option('--port <port>', 'Temporal frontend port (ignored with TEMPORAL_ADDRESS)', '7233')
    .option('--ui-port <port>', 'Temporal Web UI port', '8233')
    .option('--exit', 'stop everything once the sync is done, instead of staying up for the Web UI')
    .action((options: DevOptions) => runDev(options));
}

async function runDev(options: DevOptions): Promise<void> {
  const config = await loadCliConfig(
    options.config ?? readEnvironment().LEADSYNC_CONFIG ?? resolve(EXAMPLES, 'leadsync.yaml'),
  );
  if (!Object.hasOwn(config.accounts, options.account)) {
    throw new ConfigError(`unknown account '${options.account}' in ${config.path}`);
  }
  const simulators = await simulateAccountsWithoutCredentials(config);
  installRuntime({ logger: new JsonLogger({ level: 'WARN', redactor: workerRedactor(config) }) });

  const endpoint = await temporalEndpoint(options);
  // An existing cluster is reached as every command reaches it (TLS, API key); a dev server we started, in plaintext.
  const settings = existingTemporalCluster()
    ? await temporalConnectionSettings(process.env, config)
    : { address: endpoint.address, namespace: endpoint.namespace, tls: undefined, apiKey: undefined };
  const worker = await LeadsyncWorker.create({ config, ...settings });
  const running = worker.run();
  const connection = await connectClient(settings);
  try {
    const client = new Client({ connection, namespace: settings.namespace, dataConverter: dataConverterFromEnv() });
    const source = /\.(ndjson|jsonl)$/i.test(options.file) ? 'ndjson' : 'csv';
    const handle = await startSync(client, {
      account: options.account,
      source: { kind: source, path: resolve(options.file) },
    });
    const link = endpoint.uiUrl
      ? webUiLink(handle.workflowId, { ...process.env, TEMPORAL_UI_URL: endpoint.uiUrl })
      : '';
    process.stderr.write(`sync ${handle.workflowId}${link ? `\nWeb UI: ${link}` : ''}\n`);
    process.stdout.write(summary(await followProgress(handle, true)));
    if (!options.exit) {
      process.stderr.write(
        `\nStill running for you to explore${endpoint.uiUrl ? ` (Web UI ${endpoint.uiUrl})` : ''}; Ctrl-C stops everything.\n`,
      );
      await new Promise<void>((resolveStop) => {
        process.once('SIGINT', () => resolveStop());
        process.once('SIGTERM', () => resolveStop());
      });
    }
  } finally {
    await connection.close();
    worker.shutdown();
    await running;
    await endpoint.stop();
    await Promise.all(simulators.map((simulator) => simulator.stop()));
  }
}

async function temporalEndpoint(options: DevOptions): Promise<TemporalEndpoint> {
  const existing = existingTemporalCluster();
  if (existing) {
    process.stderr.write(`using the Temporal cluster at ${existing.address} (TEMPORAL_ADDRESS)\n`);
    return existing;
  }
  const server = await startDevServer({
    port: Number(options.port),
    uiPort: Number(options.uiPort),
    dataDir: resolve(options.dataDir),
    searchAttributes: LEADSYNC_SEARCH_ATTRIBUTES,
  });
  process.stderr.write(
    `Temporal dev server on ${server.address}, Web UI ${server.uiUrl}, data in ${options.dataDir}\n`,
  );
  return server;
}

/**
 * An account whose credential variables are unset gets a simulator of its vendor and plan: the config is pointed at
 * it and the variables set to its keys, in this process only.
 */
export async function simulateAccountsWithoutCredentials(
  config: Pick<LoadedConfig, 'accounts'>,
  registry: VendorRegistry = VENDORS,
): Promise<RunningSimulator[]> {
  const simulators: RunningSimulator[] = [];
  for (const account of Object.values(config.accounts)) {
    const sources = credentialSources(account);
    // An account reading a secret file has real credentials: dev stands in only for environment variables left unset.
    if (sources.some((source) => 'file' in source)) continue;
    const variables = sources.flatMap((source) => ('env' in source ? [source.env] : []));
    if (variables.every((variable) => process.env[variable])) continue;
    const keys = Object.fromEntries(variables.map((variable) => [variable, randomBytes(12).toString('hex')]));
    const vendor = registry.named(account.vendor);
    if (!vendor.simulator) {
      throw new ConfigError(
        `account ${account.name}: its credential variables (${variables.join(', ')}) are unset, and ${vendor.name} has no simulator to stand in`,
      );
    }
    const loaded = await vendor.simulator.load();
    const simulator = await loaded.startFor(account.effectivePlan, resolveCredentials(account, keys));
    Object.assign(process.env, keys);
    account.baseUrl = simulator.baseUrl;
    simulators.push(simulator);
    process.stderr.write(
      `account ${account.name}: no credentials set, using a ${account.vendor} simulator at ${simulator.baseUrl}\n`,
    );
  }
  return simulators;
}
