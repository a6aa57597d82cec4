import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Command } from 'commander';
import { ConfigError } from '../core/errors.js';
import { USER_FAILURES } from '../core/failures.js';
import { environmentRedactor } from '../config/secrets.js';
import { loadedSecretVariables } from './config-path.js';

/** Failure types a person fixes in their config, credentials or input: exit 2, like a local ConfigError. */
const USER_ERRORS = new Set(USER_FAILURES);

/**
 * Runs the CLI; a configuration or input error prints one clear message and exits 2, anything else 1. The message
 * passes a redactor of this process's secrets first: an error may quote a connection URL or a key.
 */
export async function runCli(program: Command, argv: string[]): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (err) {
    const { message, userError } = explain(err);
    process.stderr.write(`leadsync: ${environmentRedactor(process.env, loadedSecretVariables).redact(message)}\n`);
    process.exit(userError ? 2 : 1);
  }
}

/** A failed workflow's own message is one cause down: say that, not "Workflow execution failed". */
function explain(err: unknown): { message: string; userError: boolean } {
  if (err instanceof ConfigError) return { message: err.message, userError: true };
  if (err instanceof WorkflowFailedError && err.cause) {
    const cause = err.cause.cause instanceof ApplicationFailure ? err.cause.cause : err.cause;
    const type = cause instanceof ApplicationFailure ? cause.type : undefined;
    return {
      message: `sync failed: ${cause.message}`,
      userError: type !== undefined && type !== null && USER_ERRORS.has(type),
    };
  }
  return { message: err instanceof Error ? err.message : String(err), userError: false };
}
