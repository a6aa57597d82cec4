import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { WorkflowBundle } from '@temporalio/worker';
import { stringify as toYaml } from 'yaml';
import { startSync } from '../src/api/syncs.js';
import { loadConfig } from '../src/config/accounts.js';
import { JsonLogger } from '../src/observability/logger.js';
import { installRuntime } from '../src/observability/runtime.js';
import type { SyncInput, SyncResult } from '../src/core/contract.js';
import { ensureTemporalCli } from '../tools/temporal/cli-build.js';
import { existingTemporalCluster, startDevServer, type TemporalEndpoint } from '../tools/temporal/dev-server.js';
import { LEADSYNC_SEARCH_ATTRIBUTES } from '../src/core/search-attributes.js';
import { LeadsyncWorker } from '../src/worker/worker.js';
import { bundleWorkflowsApart } from '../src/worker/bundle.js';
import { actionsSince, readActions, type ActionCounts } from './temporal-actions.js';

/**
 * One Temporal server, one workflow bundle and one Temporal runtime for a whole benchmark run. The runtime and the
 * bundle are made when the first worker needs them: a process that only hands its rows to others (the scale rows
 * run in processes of their own) has no runtime to keep it alive.
 */
export class BenchTemporal {
  private workerSetup?: Promise<WorkflowBundle>;

  private constructor(
    readonly endpoint: TemporalEndpoint,
    readonly client: Client,
    private readonly connection: Connection,
    /** The server's Prometheus endpoint, known for a dev server the bench started. */
    private readonly metricsUrl: string | undefined,
  ) {}

  /** What the tables say of the Temporal they ran on. */
  get description(): string {
    return this.metricsUrl
      ? `Temporal dev server with no dynamic config: task queues on the server's default of 4 partitions`
      : `Temporal at ${this.endpoint.address}, on its own partition settings`;
  }

  static async start(): Promise<BenchTemporal> {
    const existing = existingTemporalCluster();
    const devServer = existing
      ? undefined
      : await startDevServer({
          cliPath: (await ensureTemporalCli()).path,
          headless: true,
          searchAttributes: LEADSYNC_SEARCH_ATTRIBUTES,
        });
    const endpoint = existing ?? devServer!;
    const connection = await Connection.connect({ address: endpoint.address });
    const client = new Client({ connection, namespace: endpoint.namespace });
    return new BenchTemporal(endpoint, client, connection, devServer?.metricsUrl);
  }

  /**
   * The Temporal actions (what Temporal Cloud bills) spent while `work` runs, by type; undefined where the bench has
   * no metrics endpoint (an existing cluster). Runs are one at a time, so the namespace's count is the run's.
   */
  async withActions<T>(work: () => Promise<T>): Promise<{ value: T; actions: ActionCounts | undefined }> {
    const url = this.metricsUrl;
    const before = url ? await readActions(url, this.endpoint.namespace) : undefined;
    const value = await work();
    // The server counts a completed workflow task's commands as it answers: the last ones are in by now.
    const after = url ? await readActions(url, this.endpoint.namespace) : undefined;
    return { value, actions: before && after ? actionsSince(before, after) : undefined };
  }

  private bundle(): Promise<WorkflowBundle> {
    this.workerSetup ??= (() => {
      installRuntime({ logger: new JsonLogger({ level: 'WARN' }) });
      return bundleWorkflowsApart({});
    })();
    return this.workerSetup;
  }

  /**
   * Writes a config with one account, runs a worker for it in this process while `work` runs, and stops it after.
   * `env` holds the credentials the account names; `work` gets the workflow task queue. `config` adds top-level keys
   * (sources).
   */
  async withWorker<T>(
    account: { name: string; settings: Record<string, unknown> },
    env: Record<string, string>,
    work: (taskQueue: string) => Promise<T>,
    config: Record<string, unknown> = {},
  ): Promise<T> {
    Object.assign(process.env, env);
    const configPath = await writeBenchConfig(account, config);
    const taskQueue = `bench-${account.name}`;
    const worker = await LeadsyncWorker.create({
      config: await loadConfig(configPath),
      address: this.endpoint.address,
      namespace: this.endpoint.namespace,
      taskQueue,
      workflowBundle: await this.bundle(),
    });
    const running = worker.run();
    try {
      return await work(taskQueue);
    } finally {
      worker.shutdown();
      await running;
    }
  }

  /** One sync to the end, with a worker for its account. */
  runSync(
    account: { name: string; settings: Record<string, unknown> },
    env: Record<string, string>,
    input: Omit<SyncInput, 'account'>,
  ): Promise<SyncResult> {
    return this.withWorker(account, env, async (taskQueue) => {
      const handle = await startSync(this.client, { ...input, account: account.name }, { taskQueue });
      return handle.result();
    });
  }

  async stop(): Promise<void> {
    await this.connection.close();
    await this.endpoint.stop();
  }
}

/**
 * A config file of one account in a directory of its own (its rejects go there too); `config` adds top-level keys
 * (sources). Returns its path.
 */
export async function writeBenchConfig(
  account: { name: string; settings: Record<string, unknown> },
  config: Record<string, unknown> = {},
): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'leadsync-bench-'));
  const configPath = join(directory, 'leadsync.yaml');
  await writeFile(
    configPath,
    toYaml({
      ...config,
      // The bench writes its source files to directories of their own under the system's temporary directory.
      sources: { files: { roots: [tmpdir()] }, ...(config.sources as Record<string, unknown> | undefined) },
      accounts: { [account.name]: account.settings },
      rejects: { directory: join(directory, 'rejects') },
    }),
  );
  return configPath;
}

export async function writeLeadsCsv(rows: number, prefix: string): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'leadsync-bench-data-'));
  const path = join(directory, 'leads.csv');
  const lines = ['EmailAddress,FirstName,LastName'];
  for (let i = 1; i <= rows; i++) lines.push(`${prefix}-${i}@example.com,First${i},Last${i}`);
  await writeFile(path, lines.join('\n') + '\n');
  return path;
}
