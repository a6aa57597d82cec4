import type { Command } from 'commander';
import { loadConfig } from '../../config/accounts.js';
import { LeadsyncWorker } from '../../worker/worker.js';
import { configPath } from '../config-path.js';
import { temporalTarget } from '../temporal.js';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run a worker for every account of the config file; run as many as you like, the ceilings stay global')
    .option('--config <path>', 'config file (default: $LEADSYNC_CONFIG, else leadsync.yaml)')
    .action(async (options: { config?: string }) => {
      const config = await loadConfig(configPath(options.config));
      const worker = await LeadsyncWorker.create({ config, ...temporalTarget() });
      for (const lane of worker.lanes) {
        process.stderr.write(`leadsync worker: ${lane.taskQueue} at ${lane.maxTaskQueueActivitiesPerSecond} calls/s\n`);
      }
      await worker.run();
    });
}
