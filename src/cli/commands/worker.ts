import { getHeapStatistics } from 'node:v8';
import type { Command } from 'commander';
import { requireSecrets, workerRedactor } from '../../config/secrets.js';
import { JsonLogger } from '../../observability/logger.js';
import { METRICS_BIND_ADDRESS_ENV, installRuntime } from '../../observability/runtime.js';
import { LeadsyncWorker } from '../../worker/worker.js';
import { configPath, loadCliConfig } from '../config-path.js';
import { watchConfig } from '../config-watch.js';
import { temporalTarget } from '../temporal-connection.js';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description(
      'run a worker for every account of the config file; run as many as you like, the ceilings stay global. ' +
        'It reloads the accounts on SIGHUP and when the file (or an account file) changes',
    )
    .option('--config <path>', 'config file (default: $LEADSYNC_CONFIG, else leadsync.yaml)')
    .option(
      '--task-queue <name>',
      'task queue of workflows and governors; lane queues derive from the accounts',
      'leadsync',
    )
    .action(async (options: { config?: string; taskQueue: string }) => {
      const config = await loadCliConfig(configPath(options.config));
      // Before the first connection: the Temporal runtime, with our logger and metrics endpoint, is per process.
      // A credential (or alert) variable left unset stops the worker here, naming it, rather than at the first sync.
      requireSecrets(config);
      const redactor = workerRedactor(config);
      const logger = new JsonLogger({ redactor });
      const metricsBindAddress = process.env[METRICS_BIND_ADDRESS_ENV]?.trim() || undefined;
      installRuntime({ logger, metricsBindAddress });
      // Watched from the moment it was read, so that a change made while the worker connects is not missed.
      let worker: LeadsyncWorker | undefined;
      let reloadWhenStarted = false;
      const reloadNow = (running: LeadsyncWorker) =>
        running.reload().catch((err: unknown) => {
          logger.error('config reload failed', { error: err instanceof Error ? err.message : String(err) });
        });
      const reload = () => {
        if (worker) void reloadNow(worker);
        else reloadWhenStarted = true;
      };
      const watcher = watchConfig(config, reload);
      process.on('SIGHUP', reload);
      try {
        worker = await LeadsyncWorker.create({
          config,
          ...(await temporalTarget(config)),
          taskQueue: options.taskQueue,
          logger,
          redactor,
        });
        logger.info(`task queues: ${worker.taskQueues}`, {
          backstop: backstopNotice(worker),
          lanes: worker.lanes.length,
        });
        for (const lane of worker.lanes) logger.info('polling lane', { ...lane });
        // Node sizes the heap by the machine's memory unless told (docs/operating.md, "Worker memory").
        logger.info('memory', {
          heapLimitMb: Math.round(getHeapStatistics().heap_size_limit / 2 ** 20),
          maxCachedWorkflows: worker.workflowCacheSize,
        });
        if (metricsBindAddress) logger.info('metrics', { url: `http://${metricsBindAddress}/metrics` });
        logger.info('reloads its accounts on SIGHUP and when the config file changes', {
          config: config.path,
          ...(config.accountFiles ? { accountFiles: config.accountFiles } : {}),
        });
        if (reloadWhenStarted) void reloadNow(worker);
        await worker.run();
      } finally {
        watcher.close();
        process.off('SIGHUP', reload);
      }
    });
}

/** What the server holds chunks to beyond the governor, the exact pacer, in the words an operator acts on. */
function backstopNotice(worker: LeadsyncWorker): string {
  if (worker.taskQueues === 'per-account') return "each lane queue's rate limit, 4 times the lane's ceiling";
  const limits = [...new Set(worker.lanes.map((lane) => lane.fairnessKeyRateLimit))];
  if (limits.every((limit) => limit === undefined)) {
    return 'none: the governor alone paces (worker.fairnessKeyBackstop sets a per-key limit)';
  }
  return (
    `per fairness key: ${limits.map((limit) => (limit === undefined ? 'none' : `${limit}/s`)).join(', ')} times its weight ` +
    "(4 times its lane's ceiling), enforced only where the server runs matching.enableFairness"
  );
}
