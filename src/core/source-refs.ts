// Workflow-safe: zod only. What every source kind shares: positions, chunk ranges, cursors and pins cross Temporal,
// rows never do. Each kind owns what a position means (a file: a byte offset; a table: a key) and its reference
// (src/core/source-registry.ts).
import { z } from 'zod';

/** An unquoted-style name, quoted when used: the ref can never carry SQL. Exact case, as in the catalog. */
export const IdentifierSchema = z
  .string()
  .max(63, 'PostgreSQL names are at most 63 characters')
  .regex(/^[A-Za-z_][A-Za-z0-9_$]*$/, 'must be a plain column name (letters, digits, _ and $)');

/** The name of a connection of the config's `sources.postgres`: the connection string never enters a reference. */
export const PostgresConnectionNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-_]*$/i, 'must name a configured connection, not be a connection string');

/** `table` or `schema.table`, each part an unquoted-style name, quoted when used (exact case, as in the catalog). */
export function qualifiedNameSchema(what: string) {
  return z
    .string()
    .regex(
      /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/,
      `must be a ${what} name, optionally schema-qualified (schema.table)`,
    );
}

/**
 * One name as a SQL identifier: double-quoted, a double quote inside doubled. The schemas let no quote into a name;
 * this holds whatever reaches it, so a name can never end its quoting and carry SQL.
 */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A schema-qualified name as SQL: every part quoted as an identifier. */
export function quoteQualifiedName(name: string): string {
  return name.split('.').map(quoteIdentifier).join('.');
}

const CursorValueSchema = z.union([z.string(), z.number()]);

/** A place in incremental order: rows with (cursorColumn, key) > (value, key) come after it. */
export const SinceSchema = z.object({ value: CursorValueSchema, key: CursorValueSchema }).strict();
export type Since = z.infer<typeof SinceSchema>;

export const PositionSchema = z.union([z.number(), z.string()]);
export type Position = z.infer<typeof PositionSchema>;

/**
 * A run of consecutive rows, by reference: `rows` rows from `from` to `to`. Files cut byte ranges
 * (`from` inclusive, `to` exclusive); tables cut key ranges (both inclusive: the first and last row's key).
 */
export const ChunkRangeSchema = z.object({
  from: PositionSchema,
  to: PositionSchema,
  /** 1-based number of the first data row, for progress and the rejects report. */
  firstRow: z.number().int().positive(),
  rows: z.number().int().nonnegative(),
});
export type ChunkRange = z.infer<typeof ChunkRangeSchema>;

/** Where the next scan starts: the position after the last row handed out, and that row's number + 1. */
export const CursorSchema = z.object({ position: PositionSchema.nullable(), nextRow: z.number().int().positive() });
export type Cursor = z.infer<typeof CursorSchema>;
export const START: Cursor = { position: null, nextRow: 1 };

/**
 * What a file was when a sync prepared it: a later read that finds another file (inode), or the same one rewritten
 * (size, modification time in nanoseconds, and the change time, which a rewrite moves even when the modification time
 * is set back), fails the sync rather than reading shifted or different rows.
 */
export const FilePinSchema = z
  .object({
    inode: z.string().regex(/^\d+$/),
    size: z.number().int().nonnegative(),
    modifiedNs: z.string().regex(/^\d+$/),
    /** Absent in pins taken before the change time was pinned: a sync's history may still carry one. */
    changedNs: z.string().regex(/^\d+$/).optional(),
  })
  .strict();
export type FilePin = z.infer<typeof FilePinSchema>;
