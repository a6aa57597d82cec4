import { z } from 'zod';
import { ConfigError, formatZodIssues } from '../core/errors.js';

const blankAsUnset = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);

/**
 * The environment variables leadsync reads besides the credentials a config names, parsed once: a bad value fails
 * with the variable's name before anything connects.
 */
export const EnvironmentSchema = z.object({
  TEMPORAL_ADDRESS: z.preprocess(
    blankAsUnset,
    z
      .string()
      .trim()
      .regex(/^[^\s:/]+:\d{1,5}$/, 'expected host:port, e.g. localhost:7233')
      .default('localhost:7233'),
  ),
  TEMPORAL_NAMESPACE: z.preprocess(blankAsUnset, z.string().trim().min(1).default('default')),
  TEMPORAL_UI_URL: z.preprocess(blankAsUnset, z.url().default('http://localhost:8233')),
  LEADSYNC_CONFIG: z.preprocess(blankAsUnset, z.string().trim().optional()),
});
export type Environment = z.infer<typeof EnvironmentSchema>;

export function readEnvironment(env: NodeJS.ProcessEnv = process.env): Environment {
  const parsed = EnvironmentSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(`invalid environment:\n${formatZodIssues(parsed.error)}`);
  return parsed.data;
}
