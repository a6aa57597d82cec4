import { ApplicationFailure } from '@temporalio/workflow';
import type { z } from 'zod';
import { FailureType } from '../src/core/failures.js';

/**
 * A workflow argument as its schema reads it. Arguments come from whoever can start a workflow (the Web UI, the
 * `temporal` CLI, a script): a bad one fails the workflow at once, naming the argument and the path of each bad
 * value, and is never retried.
 */
export function parseArgument<S extends z.ZodType>(what: string, schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ');
  throw ApplicationFailure.nonRetryable(`invalid ${what}: ${issues}`, FailureType.config);
}
