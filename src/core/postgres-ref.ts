// Workflow-safe: zod only. A table's reference: the one kind read in increments, each sync after the (cursor, key)
// pair where the last one stopped.
import { z } from 'zod';
import { ConfigError } from './errors.js';
import type { SourceRefKind } from './source-kind.js';
import {
  IdentifierSchema,
  PostgresConnectionNameSchema,
  qualifiedNameSchema,
  SinceSchema,
  type Position,
} from './source-refs.js';

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

/** The `since` of the next incremental sync, from the cursor position where this one stopped. */
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

/**
 * A table or view. Rows go in `key` order, or in (`cursorColumn`, `key`) order for incremental syncs,
 * starting after `since` when given. `key` must be unique and not null; there is no free-form filter.
 */
export const PostgresSourceSchema = z
  .object({
    kind: z.literal('postgres'),
    /** The name of a connection in the config; the connection string itself never enters a reference. */
    connection: PostgresConnectionNameSchema,
    table: qualifiedNameSchema('table or view'),
    key: IdentifierSchema,
    cursorColumn: IdentifierSchema.optional(),
    /** Where the previous incremental sync stopped: only rows with (cursorColumn, key) > (value, key) are read. */
    since: SinceSchema.optional(),
  })
  .strict()
  .refine((ref) => ref.since === undefined || ref.cursorColumn !== undefined, {
    path: ['since'],
    message: 'since needs a cursorColumn to compare against',
  });
export type PostgresSourceRef = z.infer<typeof PostgresSourceSchema>;

export const postgresRef = {
  kind: 'postgres',
  schema: PostgresSourceSchema,
  describe: (ref) => ({
    address: `postgres:${ref.connection}/${ref.table}`,
    label: `table ${ref.table}`,
    name: ref.table,
    ...(ref.cursorColumn ? { changes: `changes by ${ref.cursorColumn}` } : {}),
  }),
  increments: {
    // A scan that handed out nothing leaves the position null: the next sync keeps the `since` it had.
    sinceAfter: (ref, landed) =>
      ref.cursorColumn === undefined ? undefined : landed === null ? ref.since : postgresSinceAfter(landed),
    resumeFrom: (ref, since) => ({ ...ref, since }),
  },
} satisfies SourceRefKind<PostgresSourceRef>;
