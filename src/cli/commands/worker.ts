import type { Command } from 'commander';
import { resolveCredentials } from '../../config/credentials.js';
import { resolveAlertTarget } from '../../config/alerts.js';
import { workerRedactor } from '../../config/secrets.js';
import { JsonLogger } from '../../observability/logger.js';
import { METRICS_BIND_ADDRESS_ENV, installRuntime } from '../../observability/runtime.js';
import { LeadsyncWorker } from '../../worker/worker.js';
import { configPath, loadCliConfig } from '../config-path.js';
import { temporalTarget } from '../temporal-connection.js';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run a worker for every account of the config file; run as many as you like, the ceilings stay global')
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
      for (const account of Object.values(config.accounts)) resolveCredentials(account);
      for (const [name, target] of Object.entries(config.alerts?.targets ?? {})) resolveAlertTarget(name, target);
      const logger = new JsonLogger({ redactor: workerRedactor(config) });
      const metricsBindAddress = process.env[METRICS_BIND_ADDRESS_ENV]?.trim() || undefined;
      installRuntime({ logger, metricsBindAddress });
      const worker = await LeadsyncWorker.create({
        config,
        ...(await temporalTarget(config)),
        taskQueue: options.taskQueue,
      });
      for (const lane of worker.lanes) {
        logger.info('polling lane', {
          taskQueue: lane.taskQueue,
          maxTaskQueueActivitiesPerSecond: lane.maxTaskQueueActivitiesPerSecond,
        });
      }
      if (metricsBindAddress) logger.info('metrics', { url: `http://${metricsBindAddress}/metrics` });
      await worker.run();
    });
}
