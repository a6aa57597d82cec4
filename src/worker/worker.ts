import { Client, type Connection, type TLSConfig } from '@temporalio/client';
import {
  Runtime,
  Worker,
  type Logger,
  type NativeConnection,
  type WorkerOptions,
  type WorkflowBundleOption,
} from '@temporalio/worker';
import { ActivityContext, createActivities, type SyncActivities } from '../../activities/index.js';
import { loadConfig, type LoadedConfig } from '../config/accounts.js';
import { reloadChanges, type AccountChanges } from '../config/reload.js';
import { requireSecrets } from '../config/secrets.js';
import type { Redactor } from '../observability/redactor.js';
import { syncAllowances } from '../core/allowance.js';
import { WORKFLOW_TASK_QUEUE, laneTaskQueue, sharedLaneTaskQueue, type TaskQueueMode } from '../core/task-queues.js';
import { laneQueueRate, type LaneName } from '../core/plans.js';
import { dataConverterFromEnv } from '../temporal/codec.js';
import { connectClient, connectWorker } from '../temporal/connection.js';
import { VENDORS, type VendorRegistry } from '../vendors/registry.js';
import type { Transport } from '../vendors/transport.js';
import { fairnessKeyRateLimit, setFairnessKeyBackstop } from './fairness-backstop.js';
import { bundleWorkflowsApart } from './bundle.js';
import { workflowCacheSize } from './workflow-cache.js';

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
  /** How vendor calls go out: the process's keep-alive transport unless a test answers or records them. */
  transport?: Transport;
  identity?: string;
  /** The vendors the config was read against (loadConfig's registry); leadsync's own by default. */
  vendors?: VendorRegistry;
  /** Where a reload says what it took or why it took nothing; the Temporal runtime's logger by default. */
  logger?: Logger;
  /** The redactor of that logger: a reload teaches it the secrets the new config names. */
  redactor?: Redactor;
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
 * per lane kind whatever the accounts, the governor alone pacing unless the per-key backstop is set. A config reload
 * (reload()) adds the workers of new lanes while the others run.
 */
export class LeadsyncWorker {
  private readonly workers: Worker[] = [];
  private readonly lanesByQueue = new Map<string, LaneWorker>();
  /** Each worker's run, once run() started them: a worker a reload adds joins them. */
  private runs?: Promise<void>[];
  private stopping = false;
  /** Reloads one at a time: each diffs against the config the one before left. */
  private reloading: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly connections: { native: NativeConnection; client: Connection; context: ActivityContext },
    private readonly setup: {
      namespace: string;
      workflowTaskQueue: string;
      identity?: string;
      vendors: VendorRegistry;
      env: NodeJS.ProcessEnv;
      logger: Logger;
      common: Pick<WorkerOptions, 'connection' | 'namespace' | 'dataConverter' | 'identity'>;
      pushChunk: SyncActivities['pushChunk'];
    },
    readonly taskQueues: TaskQueueMode,
  ) {}

  /** Workflows the workflow Worker keeps cached, as it took them (workflowCacheSize). */
  get workflowCacheSize(): number {
    return this.workers[0]!.options.maxCachedWorkflows;
  }

  /** The workers of chunks this process runs, each with the backstop the server holds its queue to. */
  get lanes(): LaneWorker[] {
    return [...this.lanesByQueue.values()];
  }

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
      const vendors = options.vendors ?? VENDORS;
      const context = new ActivityContext({
        config: options.config,
        client,
        workflowTaskQueue: taskQueue,
        vendors,
        env: options.env,
        transport: options.transport,
        ...(options.redactor ? { redactor: options.redactor } : {}),
      });
      const activities = createActivities(context);
      const common = {
        connection: native,
        namespace,
        dataConverter,
        ...(options.identity ? { identity: options.identity } : {}),
      };
      const worker = new LeadsyncWorker(
        { native, client: clientConnection, context },
        {
          namespace,
          workflowTaskQueue: taskQueue,
          ...(options.identity ? { identity: options.identity } : {}),
          vendors,
          env: options.env ?? process.env,
          logger: options.logger ?? Runtime.instance().logger,
          common,
          pushChunk: activities.pushChunk,
        },
        options.config.worker.taskQueues,
      );
      worker.workers.push(
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
          maxCachedWorkflows: workflowCacheSize(Object.keys(options.config.accounts).length),
        }),
      );
      await worker.addLanes(options.config);
      return worker;
    } catch (err) {
      await clientConnection.close();
      await native.close();
      throw err;
    }
  }

  /**
   * Re-reads the config file (and its account files) and takes its accounts, or changes nothing. The whole config is
   * checked first (its schema, every secret it names set in this environment, no key changed that only a restart
   * takes: reloadChanges); one that fails is logged as an error naming the file and the key, and the running config
   * stays. Then the workers of new lanes start, and the activities see the new accounts: added ones take syncs,
   * changed ones take effect for the chunks that start after (a running chunk keeps the account it connected with),
   * and a removed one's chunks not yet started fail, saying so (ActivityContext.account). Lanes no longer configured
   * keep their worker until a restart, so that chunks still queued there reach it and fail saying why, rather than
   * wait for a poller forever.
   */
  async reload(): Promise<AccountChanges | undefined> {
    const reloaded = this.reloading.then(() => this.reloadOnce());
    this.reloading = reloaded.catch(() => undefined);
    return reloaded;
  }

  private async reloadOnce(): Promise<AccountChanges | undefined> {
    const { context } = this.connections;
    const { logger } = this.setup;
    const running = context.deps.config;
    if (this.stopping) return undefined;
    let next: LoadedConfig;
    let changes: AccountChanges;
    let lanes: LaneWorker[];
    try {
      next = await loadConfig(running.path, this.setup.vendors);
      requireSecrets(next, this.setup.env);
      changes = reloadChanges(running, next);
      // A lane that cannot start (the server unreachable) refuses the reload too: its accounts' chunks would wait.
      lanes = await this.addLanes(next);
    } catch (err) {
      logger.error('config file not reloaded: the running config stays', {
        config: running.path,
        error: err instanceof Error ? err.message : String(err),
      });
      return undefined;
    }
    this.warnOfKeptRates(next);
    context.reload(next, changes);
    logger.info('config reloaded', {
      config: running.path,
      ...changes,
      lanes: lanes.map((lane) => lane.taskQueue),
    });
    return changes;
  }

  /**
   * Starts a worker for each lane of `config` this process does not poll yet: with per-account queues each new
   * (account, lane), with shared ones each new lane kind. With shared queues the per-key backstop is set first.
   */
  private async addLanes(config: LoadedConfig): Promise<LaneWorker[]> {
    const { connections, setup } = this;
    const layout = config.worker;
    const queues = (lanes: LaneWorker[]) => lanes.filter((lane) => !this.lanesByQueue.has(lane.taskQueue));
    const added: LaneWorker[] =
      layout.taskQueues === 'shared'
        ? await Promise.all(
            queues(sharedLaneQueues(config, setup.workflowTaskQueue)).map(async ({ taskQueue }) => {
              const limit = await backstopOf(
                connections.client,
                setup.namespace,
                taskQueue,
                layout.fairnessKeyBackstop,
                setup.identity,
              );
              return { taskQueue, ...(limit !== undefined ? { fairnessKeyRateLimit: limit } : {}) };
            }),
          )
        : queues(laneWorkers(config));
    for (const lane of added) {
      const worker = await Worker.create({
        ...setup.common,
        taskQueue: lane.taskQueue,
        activities: { pushChunk: setup.pushChunk },
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
      });
      this.workers.push(worker);
      this.lanesByQueue.set(lane.taskQueue, lane);
      if (this.runs) {
        this.runs.push(worker.run());
        // A reload that was under way when shutdown() came: its worker stops with the others.
        if (this.stopping) worker.shutdown();
      }
    }
    return added;
  }

  /**
   * A per-account queue's rate limit is its worker's, set when the worker started: a plan changed by a reload keeps
   * the old backstop (the governor paces at the new plan at once) until a restart, and the log says so.
   */
  private warnOfKeptRates(config: LoadedConfig): void {
    if (config.worker.taskQueues !== 'per-account') return;
    for (const lane of laneWorkers(config)) {
      const running = this.lanesByQueue.get(lane.taskQueue)?.maxTaskQueueActivitiesPerSecond;
      if (running === undefined || running === lane.maxTaskQueueActivitiesPerSecond) continue;
      this.setup.logger.warn(
        "a lane queue keeps its rate limit until the worker restarts: the account's plan changed",
        {
          taskQueue: lane.taskQueue,
          maxTaskQueueActivitiesPerSecond: running,
          afterRestart: lane.maxTaskQueueActivitiesPerSecond,
        },
      );
    }
  }

  /** Runs until shutdown() (or a signal the SDK handles), then closes the connections and database pools. */
  async run(): Promise<void> {
    const runs = this.workers.map((worker) => worker.run());
    this.runs = runs;
    try {
      // A worker a reload adds while these run is awaited too.
      for (let awaited = 0; awaited < runs.length;) {
        const count = runs.length;
        await Promise.all(runs.slice(awaited));
        awaited = count;
      }
    } finally {
      await this.connections.context.close();
      await this.connections.client.close();
      await this.connections.native.close();
    }
  }

  shutdown(): void {
    this.stopping = true;
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

/** One shared queue per lane kind some configured account's syncs use; its backstop is set and read when it starts. */
function sharedLaneQueues(config: LoadedConfig, workflowTaskQueue: string): LaneWorker[] {
  const kinds = new Set<LaneName>(
    Object.values(config.accounts).flatMap((account) => syncAllowances(account.effectivePlan).map((a) => a.lane)),
  );
  return [...kinds].map((lane) => ({ taskQueue: sharedLaneTaskQueue(workflowTaskQueue, lane) }));
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
