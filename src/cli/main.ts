#!/usr/bin/env node
import { Command } from 'commander';
import { registerCodecServer } from './commands/codec-server.js';
import { registerControl } from './commands/control.js';
import { registerDev } from './commands/dev.js';
import { registerPlans } from './commands/plans.js';
import { registerReconcile } from './commands/reconcile.js';
import { registerRejects } from './commands/rejects.js';
import { registerSchedule } from './commands/schedule.js';
import { registerSimulate } from './commands/simulate.js';
import { registerSync } from './commands/sync.js';
import { registerWorker } from './commands/worker.js';
import { runCli } from './run.js';

const program = new Command('leadsync')
  .description('Durable, rate-governed syncs of leads into LeadSquared and SmartLead, on Temporal')
  .showHelpAfterError();

registerPlans(program);
registerDev(program);
registerWorker(program);
registerSync(program);
registerReconcile(program);
registerSchedule(program);
registerControl(program);
registerRejects(program);
registerSimulate(program);
registerCodecServer(program);

await runCli(program, process.argv);
