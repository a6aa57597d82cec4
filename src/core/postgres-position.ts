// Workflow-safe: zod only. A sync workflow reads its next `since` from the position where its scan stopped.
import { z } from 'zod';
import { ConfigError } from './errors.js';
import type { Position } from './source-refs.js';

/** In incremental order a table's positions are JSON pairs [cursor value, key], as PostgreSQL writes them in text. */
export const PairPositionSchema = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not a JSON pair' });
      return z.NEVER;
    }
  })
  .pipe(z.tuple([z.string(), z.string()]));

/**
 * The `since` of the next incremental sync, from the cursor position where this one stopped. A scan
 * that handed out nothing leaves the position null: the next sync keeps the `since` it had.
 */
export function postgresSinceAfter(position: Position): { value: string; key: string } {
  const parsed = PairPositionSchema.safeParse(position);
  if (!parsed.success) {
    throw new ConfigError(
      `position ${JSON.stringify(position)} is not a [cursor value, key] pair of an incremental source`,
    );
  }
  const [value, key] = parsed.data;
  return { value, key };
}
