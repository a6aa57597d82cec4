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
import { quoteIdentifier, quoteQualifiedName, type ChunkRange, type Cursor } from '../core/source-refs.js';
import type { RejectsTableRef } from '../core/rejects-ref.js';
import { describeSource, type SourceRef } from '../core/source-registry.js';
import type { RetrySetSummary } from '../core/contract.js';

/**
 * Where a recurring sync's rows stand across runs, and what to send again. One per recurrence scope: the account, the
 * source's address, its key column, the records and the target (see recurrenceScope), so every run of a schedule and
 * every repeated `leadsync sync` of the same table into the same account share it.
 */
export interface RowStoreSettings {
  table: RejectsTableRef;
  /** Runs a row may fail before it is reported as stuck (it stays in the retry set). */
  stuckAfterRuns: number;
  /** The opt-in changelog: each row's outcome per run, on the same connection, kept `retentionDays`. */
  changelog?: { table: string; retentionDays: number };
}

/** Why a row is in the retry set: the vendor refused it (sent again every run), or leadsync's checks did (on change). */
export type FailureKind = 'vendor' | 'check';

/** A row of the store as a chunk reads it. */
export interface StoredRow {
  version: string;
  state: 'landed' | 'retry';
  kind: FailureKind | null;
}

/** A line of the changelog: a row's outcome in a chunk. */
interface ChangelogLine {
  key: string;
  version: string | null;
  outcome: string;
  vendorId?: string;
  reason: string | null;
}

/** A row of a chunk: its key and version. */
export interface KeyedRow {
  key: string;
  version: string;
}

/** What a chunk did with its rows, written in one transaction. */
export interface ChunkOutcome {
  /** With the vendor's id of the record written, where its answer gives one per row (the changelog's vendor_id). */
  landed: (KeyedRow & { vendorId?: string })[];
  failed: (KeyedRow & { kind: FailureKind; reason: string })[];
  /** Keys of the retry set whose rows left the table. */
  gone: string[];
}

/** Which chunk of which run wrote an outcome: a chunk retried replaces what its earlier attempt wrote. */
export interface ChunkOwner {
  syncId: string;
  runId?: string;
  firstRow: number;
}

const StoredRowSchema = z.object({
  key: z.string(),
  version: z.string(),
  state: z.enum(['landed', 'retry']),
  kind: z.enum(['vendor', 'check']).nullable(),
});
const RetryKeySchema = z.object({ key: z.string() });
const RunsFailedSchema = z.object({ key: z.string(), runsFailed: z.coerce.number().int().nonnegative() });
const CountSchema = z.object({ rows: z.coerce.number().int().nonnegative() });
const SummarySchema = z.object({
  size: z.coerce.number().int().nonnegative(),
  stuck: z.coerce.number().int().nonnegative(),
  oldest: z.string().nullable(),
});
const ExistsRowSchema = z.object({ exists: z.enum(['true', 'false']) });
const PrivilegesRowSchema = z.object({
  can_insert: z.enum(['true', 'false']),
  can_update: z.enum(['true', 'false']),
  can_delete: z.enum(['true', 'false']),
  can_select: z.enum(['true', 'false']),
});

/** What names a sync's recurrence scope: its account, source, records and target. */
export interface Recurring {
  account: string;
  source: SourceRef;
  records?: string | undefined;
  target: Record<string, unknown>;
}

/**
 * The scope a sync's rows recur in, when they do: its source is a table read in increments (its cursor column gives
 * each row's version). The address names the connection and the table, not `since`: every run of the same table
 * shares it. JSON, so no two different scopes write the same text.
 */
export function recurrenceScope({ account, source, records, target }: Recurring): string | undefined {
  if (source.kind !== 'postgres' || source.cursorColumn === undefined) return undefined;
  const sorted = Object.fromEntries(Object.entries(target).sort(([a], [b]) => a.localeCompare(b)));
  return JSON.stringify([account, describeSource(source).address, source.key, records ?? 'leads', sorted]);
}

/**
 * The row store, a PostgreSQL table on a configured connection: per (scope, key) the version that last landed, or
 * the row's place in the retry set (its version, why, how many runs it failed, when first and last). Keys are text in
 * the "C" collation, so the retry set is cut into key ranges in one order whatever the database's locale. A chunk reads
 * its rows' entries in one query and writes its outcome in one transaction, idempotent when the chunk is retried:
 * a row's failed runs count once per run (last_failed_run), and the changelog's lines of a chunk are replaced.
 */
export class RowStore {
  private readonly table: string;
  private readonly changelog: string | undefined;
  private readonly where: string;

  constructor(
    private readonly settings: RowStoreSettings,
    private readonly lease: PoolLease,
  ) {
    this.table = quoteQualifiedName(settings.table.table);
    this.changelog = settings.changelog ? quoteQualifiedName(settings.changelog.table) : undefined;
    this.where = `row store ${settings.table.table} (connection '${settings.table.connection}')`;
  }

  /**
   * Creates the tables if missing and checks this user may use them; drops changelog lines past their retention.
   * Before the first vendor call: a store that cannot keep the rows fails the sync before anything is sent.
   */
  async prepare(): Promise<void> {
    await this.explained(async () => {
      await this.create(this.table, tableDefinition(this.table, this.settings.table.table));
      await this.checkPrivileges(this.table);
      if (this.changelog && this.settings.changelog) {
        await this.create(this.changelog, changelogDefinition(this.changelog, this.settings.changelog.table));
        await addMissingColumn(
          this.lease.pool,
          this.changelog,
          'vendor_id',
          "keeps the vendor's id of each row landed",
        );
        await this.checkPrivileges(this.changelog);
        await this.lease.pool.query({
          text: `DELETE FROM ${this.changelog} WHERE at < now() - make_interval(days => $1)`,
          values: [this.settings.changelog.retentionDays],
        });
      }
    });
  }

  /** The entries of these keys, in one query. */
  async entries(scope: string, keys: readonly string[]): Promise<Map<string, StoredRow>> {
    if (keys.length === 0) return new Map();
    const { rows } = await this.explained(() =>
      this.lease.pool.query({
        text: `SELECT key, version, state, kind FROM ${this.table} WHERE scope = $1 AND key = ANY($2::text[])`,
        values: [scope, keys],
      }),
    );
    return new Map(
      rows.map((raw) => {
        const { key, ...row } = StoredRowSchema.parse(raw);
        return [key, row];
      }),
    );
  }

  /** How many runs each of these keys has failed, in one query: keys the store does not hold are left out. */
  async runsFailed(scope: string, keys: readonly string[]): Promise<Map<string, number>> {
    if (keys.length === 0) return new Map();
    const { rows } = await this.explained(() =>
      this.lease.pool.query({
        text: `SELECT key, runs_failed AS "runsFailed" FROM ${this.table} WHERE scope = $1 AND key = ANY($2::text[])`,
        values: [scope, keys],
      }),
    );
    return new Map(rows.map((raw) => RunsFailedSchema.parse(raw)).map((row) => [row.key, row.runsFailed]));
  }

  async retryCount(scope: string): Promise<number> {
    const { rows } = await this.explained(() =>
      this.lease.pool.query({
        text: `SELECT count(*) AS rows FROM ${this.table} WHERE scope = $1 AND state = 'retry'`,
        values: [scope],
      }),
    );
    return CountSchema.parse(rows[0]).rows;
  }

  /**
   * Cuts the retry set into key ranges, as a table's scan cuts its rows: the next chunks of the sizes asked for, after
   * the cursor's key. Rows that leave the set meanwhile leave a range smaller; none joins it while the retry pass runs
   * (the run's own chunks come after it).
   */
  async scanRetries(
    scope: string,
    cursor: Cursor,
    sizes: readonly number[],
  ): Promise<{
    chunks: ChunkRange[];
    cursor: Cursor;
    done: boolean;
  }> {
    const wanted = sizes.reduce((sum, size) => sum + size, 0);
    const after = cursor.position === null ? null : String(cursor.position);
    const { rows } = await this.explained(() =>
      this.lease.pool.query({
        text: `SELECT key FROM ${this.table} WHERE scope = $1 AND state = 'retry' AND ($2::text IS NULL OR key > $2)
               ORDER BY key LIMIT $3`,
        values: [scope, after, wanted + 1],
      }),
    );
    const keys = rows.map((raw) => RetryKeySchema.parse(raw).key);
    const chunks: ChunkRange[] = [];
    let first = 0;
    let nextRow = cursor.nextRow;
    for (const size of sizes) {
      const part = keys.slice(first, Math.min(first + size, wanted));
      if (part.length === 0) break;
      chunks.push({ from: part[0]!, to: part.at(-1)!, firstRow: nextRow, rows: part.length });
      nextRow += part.length;
      first += part.length;
    }
    const position = chunks.at(-1)?.to ?? cursor.position;
    return { chunks, cursor: { position, nextRow }, done: keys.length <= wanted };
  }

  /** The keys of a range of the retry set, in the set's order. */
  async retryKeys(scope: string, range: ChunkRange): Promise<string[]> {
    const { rows } = await this.explained(() =>
      this.lease.pool.query({
        text: `SELECT key FROM ${this.table} WHERE scope = $1 AND state = 'retry' AND key >= $2 AND key <= $3
               ORDER BY key`,
        values: [scope, String(range.from), String(range.to)],
      }),
    );
    return rows.map((raw) => RetryKeySchema.parse(raw).key);
  }

  /**
   * A chunk's outcome, in one transaction: rows that landed leave the retry set with their version, rows that failed
   * join it (or count another run), rows gone from the table leave it; and the changelog's lines, when kept.
   */
  async recordChunk(scope: string, owner: ChunkOwner, outcome: ChunkOutcome): Promise<void> {
    const run = `${owner.syncId}/${owner.runId ?? ''}`;
    await this.explained(() =>
      inTransaction(this.lease.pool, async (client) => {
        if (outcome.landed.length > 0) {
          await client.query({
            text: `INSERT INTO ${this.table} AS s (scope, key, version, state, updated_at)
                   SELECT $1, r.key, r.version, 'landed', now() FROM unnest($2::text[], $3::text[]) AS r(key, version)
                   ON CONFLICT (scope, key) DO UPDATE SET version = excluded.version, state = 'landed', kind = NULL,
                     reason = NULL, runs_failed = 0, first_failed_at = NULL, last_failed_at = NULL,
                     last_failed_run = NULL, updated_at = now()`,
            values: [scope, outcome.landed.map((r) => r.key), outcome.landed.map((r) => r.version)],
          });
        }
        if (outcome.failed.length > 0) {
          // A run counts once however often its chunk is retried; a row keeps its first failure across versions.
          await client.query({
            text: `INSERT INTO ${this.table} AS s (scope, key, version, state, kind, reason, runs_failed,
                                                   first_failed_at, last_failed_at, last_failed_run, updated_at)
                   SELECT $1, r.key, r.version, 'retry', r.kind, r.reason, 1, now(), now(), $6, now()
                   FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS r(key, version, kind, reason)
                   ON CONFLICT (scope, key) DO UPDATE SET version = excluded.version, state = 'retry',
                     kind = excluded.kind, reason = excluded.reason,
                     runs_failed = CASE WHEN s.state <> 'retry' THEN 1
                                        WHEN s.last_failed_run = excluded.last_failed_run THEN s.runs_failed
                                        ELSE s.runs_failed + 1 END,
                     first_failed_at = CASE WHEN s.state = 'retry' THEN s.first_failed_at ELSE now() END,
                     last_failed_at = now(), last_failed_run = excluded.last_failed_run, updated_at = now()`,
            values: [
              scope,
              outcome.failed.map((r) => r.key),
              outcome.failed.map((r) => r.version),
              outcome.failed.map((r) => r.kind),
              outcome.failed.map((r) => r.reason),
              run,
            ],
          });
        }
        if (outcome.gone.length > 0) {
          await client.query({
            text: `DELETE FROM ${this.table} WHERE scope = $1 AND state = 'retry' AND key = ANY($2::text[])`,
            values: [scope, outcome.gone],
          });
        }
        if (this.changelog) await this.writeChangelog(client, scope, owner, outcome);
      }),
    );
  }

  /** The retry set's size, its rows failed for `stuckAfterRuns` runs or more, and its oldest first failure. */
  async summary(scope: string): Promise<RetrySetSummary> {
    const { rows } = await this.explained(() =>
      this.lease.pool.query({
        text: `SELECT count(*) AS size, count(*) FILTER (WHERE runs_failed >= $2) AS stuck,
                      to_char(min(first_failed_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS oldest
               FROM ${this.table} WHERE scope = $1 AND state = 'retry'`,
        values: [scope, this.settings.stuckAfterRuns],
      }),
    );
    const summary = SummarySchema.parse(rows[0]);
    return {
      size: summary.size,
      stuckRows: summary.stuck,
      ...(summary.oldest !== null ? { oldestFailedAt: summary.oldest } : {}),
    };
  }

  close(): Promise<void> {
    return this.lease.release();
  }

  private async writeChangelog(
    client: pg.PoolClient,
    scope: string,
    owner: ChunkOwner,
    outcome: ChunkOutcome,
  ): Promise<void> {
    const lines: ChangelogLine[] = [
      ...outcome.landed.map((r) => ({ ...r, outcome: 'landed', reason: null })),
      ...outcome.failed.map((r) => ({ ...r, outcome: r.kind === 'vendor' ? 'refused' : 'invalid', reason: r.reason })),
      ...outcome.gone.map((key) => ({ key, version: null, outcome: 'gone', reason: null })),
    ];
    const chunk = [owner.syncId, owner.runId ?? '', owner.firstRow];
    await client.query({
      text: `DELETE FROM ${this.changelog} WHERE sync_id = $1 AND run_id = $2 AND chunk_first_row = $3`,
      values: chunk,
    });
    if (lines.length === 0) return;
    await client.query({
      text: `INSERT INTO ${this.changelog} (scope, key, version, outcome, vendor_id, reason, sync_id, run_id,
                                            chunk_first_row)
             SELECT $4, l.key, l.version, l.outcome, l.vendor_id, l.reason, $1, $2, $3
             FROM unnest($5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
               AS l(key, version, outcome, vendor_id, reason)`,
      values: [
        ...chunk,
        scope,
        lines.map((l) => l.key),
        lines.map((l) => l.version),
        lines.map((l) => l.outcome),
        lines.map((l) => l.vendorId ?? null),
        lines.map((l) => l.reason),
      ],
    });
  }

  /**
   * Only when missing (CREATE ... IF NOT EXISTS needs the schema's CREATE privilege even when the table exists);
   * syncs preparing at once take turns on a lock.
   */
  private async create(table: string, definition: string[]): Promise<void> {
    const { rows } = await this.lease.pool.query({
      text: 'SELECT to_regclass($1::text) IS NOT NULL AS exists',
      values: [table],
    });
    if (ExistsRowSchema.parse(rows[0]).exists === 'true') return;
    await inTransaction(this.lease.pool, async (client) => {
      await client.query({ text: 'SELECT pg_advisory_xact_lock(hashtext($1))', values: [table] });
      for (const statement of definition) await client.query(statement);
    });
  }

  private async checkPrivileges(table: string): Promise<void> {
    const { rows } = await this.lease.pool.query({
      text: `SELECT has_table_privilege($1::text, 'INSERT') AS can_insert, has_table_privilege($1::text, 'UPDATE') AS can_update,
                    has_table_privilege($1::text, 'DELETE') AS can_delete, has_table_privilege($1::text, 'SELECT') AS can_select`,
      values: [table],
    });
    const privileges = PrivilegesRowSchema.parse(rows[0]);
    const missing = (['insert', 'update', 'delete', 'select'] as const).filter(
      (p) => privileges[`can_${p}`] === 'false',
    );
    if (missing.length > 0) {
      throw new ConfigError(
        `${table}: permission denied: this user may not ${missing.map((p) => p.toUpperCase()).join(', ')}`,
      );
    }
  }

  /** Every failure names the store; a wrong table, schema or permission is not retried. */
  private async explained<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof ConfigError) throw new ConfigError(`${this.where}: ${err.message}`);
      const reason = err instanceof pg.DatabaseError && err.code ? POSTGRES_CONFIG_ERRORS[err.code] : undefined;
      if (reason) throw new ConfigError(`${this.where}: ${reason}: ${(err as Error).message}`);
      const cause = err instanceof Error ? err : new Error(String(err));
      // The type Temporal retries by stays the cause's (a dropped connection is worth another attempt).
      throw Object.assign(new Error(`${this.where}: ${cause.message}`, { cause }), { name: cause.name });
    }
  }
}

function indexName(name: string, suffix: string): string {
  return quoteIdentifier(`${name.split('.').pop()!.slice(0, 40)}_${suffix}`);
}

function tableDefinition(table: string, name: string): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${table} (
       scope text NOT NULL,
       key text COLLATE "C" NOT NULL,
       version text NOT NULL,
       state text NOT NULL CHECK (state IN ('landed', 'retry')),
       kind text CHECK (kind IN ('vendor', 'check')),
       reason text,
       runs_failed integer NOT NULL DEFAULT 0,
       first_failed_at timestamptz,
       last_failed_at timestamptz,
       last_failed_run text,
       updated_at timestamptz NOT NULL DEFAULT now(),
       PRIMARY KEY (scope, key)
     )`,
    `CREATE INDEX IF NOT EXISTS ${indexName(name, 'retry_idx')} ON ${table} (scope, key) WHERE state = 'retry'`,
  ];
}

function changelogDefinition(table: string, name: string): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${table} (
       scope text NOT NULL,
       key text NOT NULL,
       version text,
       outcome text NOT NULL,
       vendor_id text,
       reason text,
       sync_id text NOT NULL,
       run_id text NOT NULL,
       chunk_first_row bigint NOT NULL,
       at timestamptz NOT NULL DEFAULT now()
     )`,
    `CREATE INDEX IF NOT EXISTS ${indexName(name, 'chunk_idx')} ON ${table} (sync_id, run_id, chunk_first_row)`,
    `CREATE INDEX IF NOT EXISTS ${indexName(name, 'key_idx')} ON ${table} (scope, key, at)`,
  ];
}

/** Opens the store on the configured connection its table names (a pool shared in the process). */
export function openRowStore(
  settings: RowStoreSettings,
  resolvePostgresConnection: (name: string) => string,
): RowStore {
  return new RowStore(settings, leasePool(resolvePostgresConnection(settings.table.connection)));
}
