// Workflow-safe: zod and types only. Where a sync's rejected rows go, as a reference that crosses Temporal: a
// directory on the workers' disk, or a table named by a configured connection's name (never its URL).
import { z } from 'zod';
import { PostgresConnectionNameSchema, qualifiedNameSchema } from './source-refs.js';

/** A PostgreSQL table for rejects: a connection of the config's `sources.postgres` by name, and the table's name. */
export const RejectsTableRefSchema = z
  .object({
    connection: PostgresConnectionNameSchema,
    table: qualifiedNameSchema('table'),
  })
  .strict();
export type RejectsTableRef = z.infer<typeof RejectsTableRefSchema>;

/**
 * What a chunk or the report is told about the sync's rejects sink. The table, when given, wins; syncs started
 * before tables existed carry only the directory.
 */
export interface RejectsRef {
  rejectsDirectory: string;
  rejectsTable?: RejectsTableRef;
}

/** Where a finished sync's rejects are, when they went to a table: the rows with `sync_id = syncId`. */
export interface RejectsTableReport extends RejectsTableRef {
  syncId: string;
  /** Rejected rows (a row with several bad fields has a line per field, and counts once). */
  rows: number;
}

/** What the rejects-report activity answers: the CSV file's path, a table's report, or nothing when none. */
export type RejectsReport = string | RejectsTableReport | undefined;
