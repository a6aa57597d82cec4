import { fileURLToPath } from 'node:url';
import { Client, type Connection, type TLSConfig } from '@temporalio/client';
import { Worker, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import { ActivityContext, createActivities } from '../../activities/index.js';
import type { LoadedConfig } from '../config/accounts.js';
import { syncAllowances } from '../core/allowance.js';
import { WORKFLOW_TASK_QUEUE, laneTaskQueue } from '../core/task-queues.js';
import { laneQueueRate } from '../core/plans.js';
import { dataConverterFromEnv } from '../temporal/codec.js';
import { connectClient, connectWorker } from '../temporal/connection.js';
import { VENDORS, type VendorRegistry } from '../vendors/registry.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));

export interface LeadsyncWorkerOptions {
  config: LoadedConfig;
  address: string;
  namespace?: string;
  /** TLS (and mutual TLS) and an API key, as temporalConnectionSettings reads them; plaintext without. */
  tls?: TLSConfig;
  apiKey?: string;
  /** Where workflows, governors and control activities run; lane queues are derived from the accounts. */
  taskQueue?: string;
  /**
   * A prebuilt workflow bundle (tests build one per file); bundled from WORKFLOWS_PATH otherwise. With a payload key,
   * build it with KEYED_CONVERTERS_PATH as payload and failure converter, or the workflows' failures are stored in
   * clear and refused input is not read as a failure.
   */
  workflowBundle?: WorkflowBundleOption;
  env?: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
  identity?: string;
  /** The vendors the config was read against (loadConfig's registry); leadsync's own by default. */
  vendors?: VendorRegistry;
}

export interface LaneWorker {
  taskQueue: string;
  maxTaskQueueActivitiesPerSecond: number;
}

/**
 * One worker process: a worker on the workflow queue, and one per (account, lane) whose task-queue rate limit is the
 * lane's ceiling. The limit is enforced by the server for every worker polling the queue, so running more processes
 * adds capacity for retries and slow calls, never rate.
 */
export class LeadsyncWorker {
  private constructor(
    private readonly workers: Worker[],
    private readonly connections: { native: NativeConnection; client: Connection; context: ActivityContext },
    readonly lanes: LaneWorker[],
  ) {}

  static async create(options: LeadsyncWorkerOptions): Promise<LeadsyncWorker> {
    const namespace = options.namespace ?? 'default';
    const taskQueue = options.taskQueue ?? WORKFLOW_TASK_QUEUE;
    const settings = { address: options.address, namespace, tls: options.tls, apiKey: options.apiKey };
    const native = await connectWorker(settings);
    const clientConnection = await connectClient(settings).catch(async (err: unknown) => {
      await native.close();
      throw err;
    });
    try {
      // The governor's updates and the workflows' payloads must be encrypted alike, or one side cannot read the other.
      const dataConverter = dataConverterFromEnv(options.env ?? process.env);
      const client = new Client({ connection: clientConnection, namespace, dataConverter });
      const context = new ActivityContext({
        config: options.config,
        client,
        workflowTaskQueue: taskQueue,
        vendors: options.vendors ?? VENDORS,
        env: options.env,
        fetch: options.fetch,
      });
      const activities = createActivities(context);
      const common = {
        connection: native,
        namespace,
        dataConverter,
        ...(options.identity ? { identity: options.identity } : {}),
      };
      const workers = [
        await Worker.create({
          ...common,
          taskQueue,
          ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
          activities,
        }),
      ];
      const lanes = laneWorkers(options.config);
      for (const lane of lanes) {
        workers.push(
          await Worker.create({
            ...common,
            taskQueue: lane.taskQueue,
            activities: { pushChunk: activities.pushChunk },
            maxTaskQueueActivitiesPerSecond: lane.maxTaskQueueActivitiesPerSecond,
            // Chunks mostly wait for their slot; the governor, not this number, sets the pace.
            maxConcurrentActivityTaskExecutions: 250,
          }),
        );
      }
      return new LeadsyncWorker(workers, { native, client: clientConnection, context }, lanes);
    } catch (err) {
      await clientConnection.close();
      await native.close();
      throw err;
    }
  }

  /** Runs until shutdown() (or a signal the SDK handles), then closes the connections and database pools. */
  async run(): Promise<void> {
    try {
      await Promise.all(this.workers.map((worker) => worker.run()));
    } finally {
      await this.connections.context.close();
      await this.connections.client.close();
      await this.connections.native.close();
    }
  }

  shutdown(): void {
    for (const worker of this.workers) if (worker.getState() === 'RUNNING') worker.shutdown();
  }
}

/** Every lane of every configured account that a sync can use, with its task-queue backstop (laneQueueRate). */
export function laneWorkers(config: LoadedConfig): LaneWorker[] {
  return Object.values(config.accounts).flatMap((account) =>
    syncAllowances(account.effectivePlan).map((allowance) => ({
      taskQueue: laneTaskQueue(account.vendor, account.name, allowance.lane),
      maxTaskQueueActivitiesPerSecond: laneQueueRate(account.effectivePlan.lanes[allowance.lane]!.windows),
    })),
  );
}
