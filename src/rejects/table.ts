import pg from 'pg';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import {
  addMissingColumn,
  inTransaction,
  leasePool,
  POSTGRES_CONFIG_ERRORS,
  type PoolLease,
} from '../sources/postgres-connection.js';
import { quoteIdentifier, quoteQualifiedName } from '../core/source-refs.js';
import type { RejectsOwner, RejectsTableRef, RejectsTableReport } from '../core/rejects-ref.js';
import type { Reject, RejectsSink } from './types.js';

/** Source rows per query when reading rejects back: memory holds one page, however many a sync rejected. */
const READ_PAGE_ROWS = 1000;

/**
 * The columns the sink writes and reads; a table made elsewhere must have them. run_id and source_key are added when
 * missing.
 */
const COLUMNS = ['sync_id', 'chunk_first_row', 'row', 'field', 'reason', 'rejected_at'];

// The pool hands every value over as PostgreSQL's text (see postgres-connection.ts): numbers are coerced here.
const ExistsRowSchema = z.object({ exists: z.enum(['true', 'false']) });
const PrivilegesRowSchema = z.object({
  can_insert: z.enum(['true', 'false']),
  can_delete: z.enum(['true', 'false']),
  can_select: z.enum(['true', 'false']),
});
const CountRowSchema = z.object({
  rows: z.coerce.number().int().nonnegative(),
  lines: z.coerce.number().int().nonnegative(),
});
/** Columns an older leadsync's table may lack, and what each is for (said when it cannot be added). */
const ADDED_COLUMNS = [
  ['run_id', 'keeps apart the rejects of syncs that use a workflow id again'],
  ['source_key', "keeps a table source's key of each row, by which `leadsync rejects retry` finds it again"],
] as const;
const FirstChunkRowSchema = z.object({ first: z.coerce.number().int().positive().nullable() });

/** A reject as read back, with the chunk that wrote it. */
export const StoredRejectSchema = z.object({
  chunkFirstRow: z.coerce.number().int().positive(),
  row: z.coerce
    .number()
    .int()
    .positive()
    .nullable()
    .transform((row) => row ?? undefined),
  field: z
    .string()
    .nullable()
    .transform((field) => field ?? undefined),
  reason: z.string(),
  key: z
    .string()
    .nullable()
    .transform((key) => key ?? undefined),
  /** Only when read with the row store's counts (see read). */
  runsFailed: z.coerce
    .number()
    .int()
    .nonnegative()
    .nullish()
    .transform((runs) => runs ?? undefined),
});
export type StoredReject = z.infer<typeof StoredRejectSchema>;

/**
 * Rejects as rows of a PostgreSQL table, one per (row, field) refused: sync_id, chunk_first_row, row, field, reason,
 * rejected_at, run_id, source_key (a table source's key of the row, NULL for files); a NULL row is a chunk's count of rows the vendor refused without naming them (said in the
 * reason). A chunk deletes what an earlier attempt of it wrote and inserts its own in one transaction, so a retried
 * chunk reports once. Each run of a sync id has its own rows (run_id), so a sync that uses a closed sync's id again
 * leaves that sync's rejects as they were; a sync prepared before runs were kept apart has NULL there. The table's
 * name is checked by its schema and double-quoted; values are parameters.
 */
export class TableRejectsSink implements RejectsSink {
  private readonly table: string;
  private readonly where: string;

  constructor(
    private readonly ref: RejectsTableRef,
    private readonly lease: PoolLease,
  ) {
    this.table = quoteQualifiedName(ref.table);
    this.where = describeTable(ref);
  }

  /**
   * Creates the table if it is missing, or adds the columns a table made by an older leadsync lacks; then checks that
   * it has the columns and that this user may insert, delete and read. Nothing is deleted: earlier runs' rows stay.
   */
  async prepare(): Promise<void> {
    await this.explained(async () => {
      if (!(await this.exists())) await this.create();
      // A table of another shape is refused before anything of it changes.
      await this.lease.pool.query(`SELECT ${COLUMNS.map(quoteIdentifier).join(', ')} FROM ${this.table} LIMIT 0`);
      await this.addMissingColumns();
      const { rows } = await this.lease.pool.query({
        text: `SELECT has_table_privilege($1::text, 'INSERT') AS can_insert, has_table_privilege($1::text, 'DELETE') AS can_delete,
                      has_table_privilege($1::text, 'SELECT') AS can_select`,
        values: [this.table],
      });
      const privileges = PrivilegesRowSchema.parse(rows[0]);
      const missing = (['insert', 'delete', 'select'] as const).filter((p) => privileges[`can_${p}`] === 'false');
      if (missing.length > 0) {
        throw new ConfigError(
          `${this.where}: permission denied: this user may not ${missing.map((p) => p.toUpperCase()).join(', ')}`,
        );
      }
    });
  }

  async writeChunk(owner: RejectsOwner, firstRow: number, rejects: readonly Reject[]): Promise<void> {
    const run = ofRun(owner, 3);
    await this.explained(async () => {
      const clear = {
        text: `DELETE FROM ${this.table} WHERE sync_id = $1 AND chunk_first_row = $2${run.where}`,
        values: [owner.syncId, firstRow, ...run.values],
      };
      if (rejects.length === 0) {
        // An earlier attempt may have rejected rows that this one landed.
        await this.lease.pool.query(clear);
        return;
      }
      await inTransaction(this.lease.pool, async (client) => {
        await client.query(clear);
        // An array per column, whatever the number of rejects: no statement grows with the chunk. A sync prepared
        // before runs were kept apart writes as it did then, to a table that may not have run_id yet; rows without a
        // source key (a file's) leave source_key out, for a table its prepare did not give one.
        const columns: [string, string, unknown[]][] = [
          ['"row"', 'bigint', rejects.map((r) => r.row)],
          ['field', 'text', rejects.map((r) => r.field ?? null)],
          ['reason', 'text', rejects.map((r) => r.reason)],
          ...(rejects.some((r) => r.key !== undefined)
            ? [['source_key', 'text', rejects.map((r) => r.key ?? null)] as [string, string, unknown[]]]
            : []),
        ];
        const values: unknown[] = [owner.syncId, firstRow];
        const arrays = columns.map(([, type, array]) => `$${values.push(array)}::${type}[]`);
        const runValue = owner.runId === undefined ? '' : `, $${values.push(owner.runId)}`;
        const names = columns.map(([name]) => name).join(', ');
        await client.query({
          text: `INSERT INTO ${this.table} (sync_id, chunk_first_row, ${names}${owner.runId === undefined ? '' : ', run_id'})
                 SELECT $1, $2, ${columns.map(([name]) => `r.${name}`).join(', ')}${runValue}
                 FROM unnest(${arrays.join(', ')}) AS r(${names})`,
          values,
        });
      });
    });
  }

  async report(owner: RejectsOwner): Promise<RejectsTableReport | undefined> {
    const run = ofRun(owner, 2);
    const { rows } = await this.explained(() =>
      this.lease.pool.query({
        text: `SELECT count(DISTINCT "row") AS rows, count(*) AS lines FROM ${this.table} WHERE sync_id = $1${run.where}`,
        values: [owner.syncId, ...run.values],
      }),
    );
    // `rows` counts the rows named; lines with no row (refusals the vendor did not attribute) still make a report.
    const count = CountRowSchema.parse(rows[0]);
    return count.lines === 0 ? undefined : { ...this.ref, ...owner, rows: count.rows };
  }

  /**
   * A run's rejects in row order (by chunk, then row, field and reason), a page of source rows at a time. With
   * `runsFailed` (a row store on the same database, and the scope the run's rows recur in), each page is joined to the
   * store in the same query: a row's runs failed, none for a row the store does not hold.
   */
  async *read(owner: RejectsOwner, runsFailed?: { table: string; scope: string }): AsyncGenerator<StoredReject> {
    let from = 1;
    for (;;) {
      const next = await this.explained(() =>
        this.lease.pool.query({
          text: `SELECT min(chunk_first_row) AS first FROM ${this.table}
                 WHERE sync_id = $1 AND chunk_first_row >= $2${ofRun(owner, 3).where}`,
          values: [owner.syncId, from, ...ofRun(owner, 3).values],
        }),
      );
      const first = FirstChunkRowSchema.parse(next.rows[0]).first;
      if (first === null) return;
      const run = ofRun(owner, 4, 'r.run_id');
      const values: unknown[] = [owner.syncId, first, first + READ_PAGE_ROWS, ...run.values];
      // The store's keys are in the "C" collation: the rejects' keys are compared in it too.
      const joined = runsFailed
        ? {
            column: ', s.runs_failed AS "runsFailed"',
            join: ` LEFT JOIN ${quoteQualifiedName(runsFailed.table)} AS s
                    ON s.scope = $${values.push(runsFailed.scope)} AND s.key = r.source_key COLLATE "C"`,
          }
        : { column: '', join: '' };
      const page = await this.explained(() =>
        this.lease.pool.query({
          text: `SELECT r.chunk_first_row AS "chunkFirstRow", r."row", r.field, r.reason, r.source_key AS key${joined.column}
                 FROM ${this.table} AS r${joined.join}
                 WHERE r.sync_id = $1 AND r.chunk_first_row >= $2 AND r.chunk_first_row < $3${run.where}
                 ORDER BY r.chunk_first_row, r."row", r.field NULLS FIRST, r.reason`,
          values,
        }),
      );
      for (const row of page.rows) yield StoredRejectSchema.parse(row);
      from = first + READ_PAGE_ROWS;
    }
  }

  close(): Promise<void> {
    return this.lease.release();
  }

  /**
   * A table made by an older leadsync gets the columns it lacks: run_id (its rows so far keep NULL there, as the syncs
   * that wrote them were prepared before runs were kept apart) and source_key (NULL: the rows' keys were not kept).
   */
  private async addMissingColumns(): Promise<void> {
    for (const [column, why] of ADDED_COLUMNS) await addMissingColumn(this.lease.pool, this.table, column, why);
  }

  private async exists(): Promise<boolean> {
    const { rows } = await this.lease.pool.query({
      text: 'SELECT to_regclass($1::text) IS NOT NULL AS exists',
      values: [this.table],
    });
    return ExistsRowSchema.parse(rows[0]).exists === 'true';
  }

  /**
   * Only when missing: CREATE TABLE IF NOT EXISTS needs the schema's CREATE privilege even when the table exists,
   * which a table made by an administrator should not require. Syncs preparing at once take turns on a lock.
   */
  private async create(): Promise<void> {
    const name = this.ref.table.split('.').pop()!;
    const index = quoteIdentifier(`${name.slice(0, 40)}_sync_id_chunk_idx`);
    await inTransaction(this.lease.pool, async (client) => {
      await client.query({ text: 'SELECT pg_advisory_xact_lock(hashtext($1))', values: [this.table] });
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${this.table} (
           sync_id text NOT NULL,
           chunk_first_row bigint NOT NULL,
           "row" bigint,
           field text,
           reason text NOT NULL,
           rejected_at timestamptz NOT NULL DEFAULT now(),
           run_id text,
           source_key text
         )`,
      );
      await client.query(`CREATE INDEX IF NOT EXISTS ${index} ON ${this.table} (sync_id, chunk_first_row)`);
    });
  }

  /** Every failure names the table and the connection; a wrong table, schema or permission is not retried. */
  private async explained<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw explain(err, this.where);
    }
  }
}

/**
 * The condition on run_id that keeps a run's rows apart, its parameter numbered `parameter`. A sync prepared before
 * runs were kept apart has none: it reads and writes its rows by sync_id as it did then, and no run of the same id
 * can have begun while it was open.
 */
function ofRun(owner: RejectsOwner, parameter: number, column = 'run_id'): { where: string; values: string[] } {
  return owner.runId === undefined
    ? { where: '', values: [] }
    : { where: ` AND ${column} = $${parameter}`, values: [owner.runId] };
}

/** Opens the table of a reference on the configured connection it names (a pool shared in the process). */
export function openTableRejectsSink(
  ref: RejectsTableRef,
  resolvePostgresConnection: (name: string) => string,
): TableRejectsSink {
  let url: string;
  try {
    url = resolvePostgresConnection(ref.connection);
  } catch (err) {
    throw explain(err, describeTable(ref));
  }
  return new TableRejectsSink(ref, leasePool(url));
}

function describeTable(ref: RejectsTableRef): string {
  return `rejects table ${ref.table} (connection '${ref.connection}')`;
}

function explain(err: unknown, where: string): Error {
  if (err instanceof ConfigError) {
    return err.message.startsWith(where) ? err : new ConfigError(`${where}: ${err.message}`);
  }
  if (err instanceof pg.DatabaseError && err.code === '23502' && err.column === 'row') {
    // A table made before leadsync wrote lines without a row: what to change, not a retry.
    return new ConfigError(
      `${where}: column "row" does not allow NULL, which leadsync writes for rows the vendor refused without ` +
        `naming them: ALTER TABLE ... ALTER COLUMN "row" DROP NOT NULL`,
    );
  }
  if (err instanceof pg.DatabaseError && err.code !== undefined) {
    const reason = POSTGRES_CONFIG_ERRORS[err.code];
    if (reason) return new ConfigError(`${where}: ${reason}: ${err.message}`);
  }
  const cause = err instanceof Error ? err : new Error(String(err));
  // The type Temporal retries by stays the cause's (a dropped connection is worth another attempt).
  return Object.assign(new Error(`${where}: ${cause.message}`, { cause }), { name: cause.name });
}
