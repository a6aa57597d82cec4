import { activityInfo } from '@temporalio/activity';
import type { z } from 'zod';
import { ConfigError, formatZodIssues } from '../src/core/errors.js';

/**
 * An activity's argument as its schema reads it. A sync workflow checks its own input, but activities are scheduled
 * by name: whoever can write to the namespace can run a worker whose workflow schedules leadsync's activities on
 * leadsync's task queues with any arguments. So each activity checks its argument again before it reads, writes or
 * queries anything; a bad one is a ConfigError (not retried) naming the path of each bad value.
 */
export function parseActivityArgument<S extends z.ZodType>(activity: string, schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new ConfigError(`invalid ${activity} argument:\n${formatZodIssues(parsed.error)}`);
}

/**
 * A sync's rejects, first rows and pause are its own: an activity names the sync it works for, and it must be the
 * workflow that scheduled it, so that another workflow cannot write into, read or clear another sync's files.
 */
export function assertOwnSync(activity: string, syncId: string): void {
  const caller = activityInfo().workflowExecution?.workflowId;
  if (caller !== syncId) {
    throw new ConfigError(`invalid ${activity} argument: syncId must be the id of the workflow that schedules it`);
  }
}
