import type { Command } from 'commander';
import { ConfigError } from '../config/errors.js';

/** Runs the CLI; a configuration or input error prints one clear message and exits 2, anything else 1. */
export async function runCli(program: Command, argv: string[]): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`leadsync: ${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`leadsync: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
