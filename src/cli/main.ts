#!/usr/bin/env node
import { Command } from 'commander';
import { registerPlans } from './commands/plans.js';
import { runCli } from './run.js';

const program = new Command('leadsync')
  .description('Durable, rate-governed syncs of leads into LeadSquared and SmartLead, on Temporal')
  .showHelpAfterError();

registerPlans(program);

await runCli(program, process.argv);
