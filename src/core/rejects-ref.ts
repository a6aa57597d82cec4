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

/**
 * A run of a sync, as Temporal names it: a workflow id may be used again once its sync is closed, and each sync's
 * rejects are kept under the run that prepared it. Checked before it names a file or reaches SQL.
 */
export const RunIdSchema = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'must be a Temporal run id');

/**
 * Whose rejects: a sync by its workflow id, and the run that prepared it. The run is absent for a sync prepared
 * before rejects were kept by run (its history still holds that plan), and for a dry run, whose id is its own.
 */
export interface RejectsOwner {
  syncId: string;
  runId?: string;
}

/**
 * Where a finished sync's rejects are, when they went to a table: the rows with `sync_id = syncId` and
 * `run_id = runId` (`run_id IS NULL` for a sync prepared before rejects were kept by run).
 */
export interface RejectsTableReport extends RejectsTableRef, RejectsOwner {
  /** Rejected rows (a row with several bad fields has a line per field, and counts once). */
  rows: number;
}

/** What the rejects-report activity answers: the CSV file's path, a table's report, or nothing when none. */
export type RejectsReport = string | RejectsTableReport | undefined;
