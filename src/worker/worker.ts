import { Client, type Connection, type TLSConfig } from '@temporalio/client';
import { Worker, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import { ActivityContext, createActivities } from '../../activities/index.js';
import type { LoadedConfig } from '../config/accounts.js';
import { syncAllowances } from '../core/allowance.js';
import { WORKFLOW_TASK_QUEUE, laneTaskQueue, sharedLaneTaskQueue, type TaskQueueMode } from '../core/task-queues.js';
import { laneQueueRate, type LaneName } from '../core/plans.js';
import { dataConverterFromEnv } from '../temporal/codec.js';
import { connectClient, connectWorker } from '../temporal/connection.js';
import { VENDORS, type VendorRegistry } from '../vendors/registry.js';
import { fairnessKeyRateLimit, setFairnessKeyBackstop } from './fairness-backstop.js';
import { bundleWorkflowsApart } from './bundle.js';

export { WORKFLOWS_PATH } from './bundle.js';

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
   * A prebuilt workflow bundle (tests build one per file); bundled from WORKFLOWS_PATH in a child process otherwise. With a payload key,
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

/** A Worker of chunks, and the backstop the server holds its queue's tasks to beyond the governor. */
export interface LaneWorker {
  taskQueue: string;
  /** A per-account queue's rate limit: 4 times its lane's ceiling. */
  maxTaskQueueActivitiesPerSecond?: number;
  /**
   * A shared queue's per-fairness-key rate limit at weight 1 as the server holds it at start (each chunk's weight
   * scales it), enforced only with the server's `matching.enableFairness`; absent when none is set.
   */
  fairnessKeyRateLimit?: number;
}

/**
 * One worker process: a worker on the workflow queue, and the workers of chunks. With per-account queues, one per
 * (account, lane), whose task-queue rate limit is the lane's backstop: the server enforces it for every worker polling
 * the queue, so running more processes adds capacity for retries and slow calls, never rate. With shared queues, one
 * per lane kind whatever the accounts, the governor alone pacing unless the per-key backstop is set.
 */
export class LeadsyncWorker {
  private constructor(
    private readonly workers: Worker[],
    private readonly connections: { native: NativeConnection; client: Connection; context: ActivityContext },
    readonly taskQueues: TaskQueueMode,
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
          workflowBundle:
            options.workflowBundle ??
            (await bundleWorkflowsApart({
              payloadConverterPath: dataConverter?.payloadConverterPath,
              failureConverterPath: dataConverter?.failureConverterPath,
            })),
          activities,
        }),
      ];
      const { worker: layout } = options.config;
      const lanes =
        layout.taskQueues === 'shared'
          ? await sharedLaneWorkers(options.config, taskQueue, (queue) =>
              backstopOf(clientConnection, namespace, queue, layout.fairnessKeyBackstop, options.identity),
            )
          : laneWorkers(options.config);
      for (const lane of lanes) {
        workers.push(
          await Worker.create({
            ...common,
            taskQueue: lane.taskQueue,
            activities: { pushChunk: activities.pushChunk },
            // Chunks mostly wait for their slot; the governor, not these numbers, sets the pace.
            ...(lane.maxTaskQueueActivitiesPerSecond === undefined
              ? {
                  // One queue for every account: its polls follow the server's hints, not the account count.
                  maxConcurrentActivityTaskExecutions: layout.maxConcurrentChunks,
                  activityTaskPollerBehavior: { type: 'autoscaling' },
                }
              : {
                  maxTaskQueueActivitiesPerSecond: lane.maxTaskQueueActivitiesPerSecond,
                  maxConcurrentActivityTaskExecutions: 250,
                }),
          }),
        );
      }
      return new LeadsyncWorker(workers, { native, client: clientConnection, context }, layout.taskQueues, lanes);
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

/** One shared queue per lane kind some configured account's syncs use, with the per-key backstop `backstop` finds. */
async function sharedLaneWorkers(
  config: LoadedConfig,
  workflowTaskQueue: string,
  backstop: (taskQueue: string) => Promise<number | undefined>,
): Promise<LaneWorker[]> {
  const kinds = new Set<LaneName>(
    Object.values(config.accounts).flatMap((account) => syncAllowances(account.effectivePlan).map((a) => a.lane)),
  );
  return Promise.all(
    [...kinds].map(async (lane) => {
      const taskQueue = sharedLaneTaskQueue(workflowTaskQueue, lane);
      const limit = await backstop(taskQueue);
      return { taskQueue, ...(limit !== undefined ? { fairnessKeyRateLimit: limit } : {}) };
    }),
  );
}

/**
 * Sets the shared queue's per-key backstop when the config asks for it, and reads what the server holds: a limit set
 * before (by an operator, or a worker configured otherwise) stays in force until cleared, and the worker says so.
 */
async function backstopOf(
  connection: Connection,
  namespace: string,
  taskQueue: string,
  set: boolean,
  identity = `${process.pid}@leadsync`,
): Promise<number | undefined> {
  if (set) await setFairnessKeyBackstop(connection, namespace, taskQueue, identity);
  return fairnessKeyRateLimit(connection, namespace, taskQueue);
}
