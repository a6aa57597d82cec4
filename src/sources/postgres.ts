import pg from 'pg';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { tableAllowed, tableRefused, type SourceBoundary } from './boundary.js';
import { leasePool, POSTGRES_CONFIG_ERRORS, type PoolLease } from './postgres-connection.js';
import {
  quoteIdentifier,
  quoteQualifiedName,
  type ChunkRange,
  type Cursor,
  type Position,
} from '../core/source-refs.js';
import { PairPositionSchema, postgresRef, type PostgresSourceRef } from '../core/postgres-ref.js';
import type { SourceKind } from './source-kind.js';
import { type ScanResult, type Source, type SourceRow } from './source.js';

/** Rows fetched per query by read(): memory holds one page, whatever the size of the range. */
const PAGE_ROWS = 1000;

/**
 * A row's place in the source's order, as PostgreSQL writes the order columns in text: [key], or
 * [cursorColumn, key] for incremental syncs. Text round-trips exactly (bigint, microseconds) and
 * PostgreSQL casts it back to the column's type when it is compared.
 */
type Place = string[];

const samePlace = (a: Place, b: Place): boolean => a.length === b.length && a.every((value, i) => value === b[i]);

const BoundaryRowSchema = z.object({
  n: z.coerce.number(),
  total: z.coerce.number(),
  p0: z.string(),
  p1: z.string().optional(),
});
const CountRowSchema = z.object({ rows: z.coerce.number() });
const RelationRowSchema = z.object({ kind: z.string(), unique_key: z.enum(['true', 'false']) });
const ResolvedRowSchema = z.object({ schema: z.string(), name: z.string() });
// Relation kinds that can carry an index: tables and partitioned tables. Views are trusted as written.
const INDEXED_KINDS = ['r', 'p'];
const ValuesSchema = z.array(z.string().nullable());
/** date, timestamp, timestamptz. */
const TIME_OIDS = [1082, 1114, 1184];

/**
 * A PostgreSQL table or view, cut into key ranges by keyset pagination (never OFFSET). A chunk is the
 * inclusive range [first row's place, last row's place]; the scan cursor is the last place handed out,
 * and the next scan starts strictly after it. Row counts are computed by the database at scan time:
 * rows inserted into a range already handed out are read with it, rows deleted are not.
 * In incremental order, rows whose cursor column is null have no place and are never read.
 */
export class PostgresSource implements Source {
  private readonly table: string;
  private readonly order: string[];
  private readonly since: Place | undefined;
  private checked: Promise<string[]> | undefined;
  /** Whether the cursor column holds times (date, timestamp, timestamptz): only times are looked back over. */
  private cursorIsTime = false;

  constructor(
    private readonly ref: PostgresSourceRef,
    private readonly lease: PoolLease,
    private readonly boundary: SourceBoundary,
    private readonly lookBackSeconds = 0,
  ) {
    this.table = quoteQualifiedName(ref.table);
    this.order = [...(ref.cursorColumn ? [ref.cursorColumn] : []), ref.key].map(quoteIdentifier);
    this.since = ref.since ? [String(ref.since.value), String(ref.since.key)] : undefined;
  }

  private get incremental(): boolean {
    return this.order.length === 2;
  }

  private async query(
    config: pg.QueryConfig | pg.QueryArrayConfig,
  ): Promise<{ rows: unknown[]; fields: pg.FieldDef[] }> {
    try {
      return 'rowMode' in config ? await this.lease.pool.query(config) : await this.lease.pool.query(config);
    } catch (err) {
      throw this.explain(err);
    }
  }

  private explain(err: unknown): unknown {
    if (!(err instanceof pg.DatabaseError) || err.code === undefined) return err;
    const where = `PostgreSQL source ${this.ref.table} (connection '${this.ref.connection}')`;
    const reason = POSTGRES_CONFIG_ERRORS[err.code];
    if (reason) return new ConfigError(`${where}: ${reason}: ${err.message}`);
    // Class 22 is bad data in a parameter: the only values not read from the table itself come from `since`.
    if (err.code.startsWith('22')) {
      return new ConfigError(`${where}: since does not fit the types of (${this.order.join(', ')}): ${err.message}`);
    }
    return err;
  }

  /** Checks once that the table and the order columns exist, so a typo fails before any chunk is cut. */
  private check(): Promise<string[]> {
    this.checked ??= this.describe().catch((err: unknown) => {
      this.checked = undefined;
      throw err;
    });
    return this.checked;
  }

  /**
   * The table must be one the connection's list allows, before anything is read from it. A schema-qualified name is
   * checked as written, without a query; an unqualified one as the search path resolves it. A table that does not
   * exist is refused alike, so the refusal tells nothing about what else the database holds.
   */
  private async admit(): Promise<void> {
    const allowed = Object.hasOwn(this.boundary.tables, this.ref.connection)
      ? this.boundary.tables[this.ref.connection]!
      : [];
    const parts = this.ref.table.split('.');
    if (parts.length === 2) {
      if (tableAllowed(allowed, parts[0]!, parts[1]!)) return;
      throw tableRefused(this.boundary, this.ref.connection);
    }
    if (allowed.length === 0) throw tableRefused(this.boundary, this.ref.connection);
    const { rows } = await this.query({
      text: `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)`,
      values: [this.table],
    });
    const resolved = rows[0] === undefined ? undefined : ResolvedRowSchema.parse(rows[0]);
    if (!resolved || !tableAllowed(allowed, resolved.schema, resolved.name)) {
      throw tableRefused(this.boundary, this.ref.connection);
    }
  }

  private async describe(): Promise<string[]> {
    await this.admit();
    const { fields } = await this.query({ text: `SELECT * FROM ${this.table} LIMIT 0` });
    const columns = fields.map((f) => f.name);
    const cursorType = fields.find((f) => f.name === this.ref.cursorColumn)?.dataTypeID;
    this.cursorIsTime = cursorType !== undefined && TIME_OIDS.includes(cursorType);
    for (const [role, column] of [
      ['key', this.ref.key],
      ['cursorColumn', this.ref.cursorColumn],
    ] as const) {
      if (column !== undefined && !columns.includes(column)) {
        throw new ConfigError(
          `PostgreSQL source ${this.ref.table}: ${role} column '${column}' does not exist (columns: ${columns.join(', ')})`,
        );
      }
    }
    await this.checkKeyIsUnique();
    return columns;
  }

  /**
   * read() pages by key: rows sharing a key across a page edge would be skipped. A table must prove its
   * key unique with a unique index on that one column (a primary key counts).
   */
  private async checkKeyIsUnique(): Promise<void> {
    const { rows } = await this.query({
      text: `SELECT c.relkind::text AS kind, EXISTS (
               SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
               WHERE i.indrelid = c.oid AND i.indisunique AND i.indnkeyatts = 1 AND i.indpred IS NULL AND a.attname = $2
             ) AS unique_key
             FROM pg_class c WHERE c.oid = to_regclass($1)`,
      values: [this.table, this.ref.key],
    });
    const relation = RelationRowSchema.parse(rows[0]);
    if (INDEXED_KINDS.includes(relation.kind) && relation.unique_key === 'false') {
      throw new ConfigError(
        `PostgreSQL source ${this.ref.table}: key column '${this.ref.key}' has no unique index; ` +
          'rows sharing a key could be skipped: use a primary key or a unique column',
      );
    }
  }

  private encode(place: Place): string {
    return this.incremental ? JSON.stringify(place) : place[0]!;
  }

  private decode(position: Position): Place {
    const parsed = (this.incremental ? PairPositionSchema : z.string().transform((key) => [key])).safeParse(position);
    if (!parsed.success) {
      throw new ConfigError(
        `PostgreSQL source ${this.ref.table}: position ${JSON.stringify(position)} is not a ${this.incremental ? '[cursor value, key] pair' : 'key'} of this source`,
      );
    }
    return parsed.data;
  }

  /** `(order columns) <op> ($i, ...)`, its parameters appended to `values`. */
  private compare(op: '>' | '>=' | '<=', place: Place, values: unknown[]): string {
    const params = place.map((value) => `$${values.push(value)}`);
    return `(${this.order.join(', ')}) ${op} (${params.join(', ')})`;
  }

  private filter(after: Place | undefined, values: unknown[]): string {
    const conditions = this.order.map((column) => `${column} IS NOT NULL`);
    if (after) conditions.push(this.compare('>', after, values));
    return conditions.join(' AND ');
  }

  /**
   * Where an incremental sync starts: after `since`, moved back by the connection's look-back. A row written with a
   * cursor value before the mark by a transaction that committed after the last scan is read by the next sync
   * instead of never; the rows read again are upserts of what the vendor has.
   */
  private start(values: unknown[]): string {
    if (!this.since || this.lookBackSeconds === 0 || !this.cursorIsTime) return this.filter(this.since, values);
    const [cursorColumn, keyColumn] = this.order;
    const lookBack = `make_interval(secs => $${values.push(this.lookBackSeconds)}::double precision)`;
    const [value, key] = this.since;
    return [
      this.filter(undefined, values),
      `(${cursorColumn} + ${lookBack}, ${keyColumn}) > ($${values.push(value)}, $${values.push(key)})`,
    ].join(' AND ');
  }

  async columns(): Promise<string[]> {
    return this.check();
  }

  async countRows(): Promise<number> {
    await this.check();
    const values: unknown[] = [];
    const result = await this.query({
      text: `SELECT count(*) AS rows FROM ${this.table} WHERE ${this.start(values)}`,
      values,
    });
    return CountRowSchema.parse(result.rows[0]).rows;
  }

  /**
   * One query numbers the next sum(sizes) + 1 rows in order and returns only the rows that start or end
   * a chunk, so no row data leaves the database and the extra row says whether more remain.
   */
  async scan(cursor: Cursor, sizes: readonly number[]): Promise<ScanResult> {
    await this.check();
    const after = cursor.position === null ? undefined : this.decode(cursor.position);
    const wanted = sizes.reduce((sum, size) => sum + size, 0);
    const boundaries: number[] = [];
    let end = 0;
    for (const size of sizes) {
      boundaries.push(end + 1, end + size);
      end += size;
    }
    const values: unknown[] = [];
    const where = after ? this.filter(after, values) : this.start(values);
    const order = this.order.join(', ');
    const places = this.order.map((column, i) => `${column}::text AS p${i}`).join(', ');
    const result = await this.query({
      text: `SELECT n, total, ${this.order.map((_, i) => `p${i}`).join(', ')} FROM (
               SELECT row_number() OVER (ORDER BY ${order}) AS n, count(*) OVER () AS total, ${places}
               FROM (SELECT ${order} FROM ${this.table} WHERE ${where} ORDER BY ${order} LIMIT $${values.push(wanted + 1)}) AS page
             ) AS numbered
             WHERE n = ANY($${values.push(boundaries)}::bigint[]) OR n = total
             ORDER BY n`,
      values,
    });
    const placeAt = new Map<number, Place>();
    let total = 0;
    for (const row of result.rows) {
      const { n, total: rows, p0, p1 } = BoundaryRowSchema.parse(row);
      placeAt.set(n, p1 === undefined ? [p0] : [p0, p1]);
      total = rows;
    }
    const place = (n: number): string => {
      const found = placeAt.get(n);
      if (!found) throw new Error(`scan of ${this.ref.table}: row ${n} of the page was not returned`);
      return this.encode(found);
    };

    const available = Math.min(total, wanted);
    const chunks: ChunkRange[] = [];
    let first = 1;
    let nextRow = cursor.nextRow;
    for (const size of sizes) {
      if (first > available) break;
      const last = Math.min(first + size - 1, available);
      chunks.push({ from: place(first), to: place(last), firstRow: nextRow, rows: last - first + 1 });
      nextRow += last - first + 1;
      first = last + 1;
    }
    const position = chunks.at(-1)?.to ?? cursor.position;
    return { chunks, cursor: { position, nextRow }, done: total <= wanted };
  }

  async *read(range: ChunkRange): AsyncIterable<SourceRow> {
    await this.check();
    const to = this.decode(range.to);
    let lower: { op: '>=' | '>'; place: Place } = { op: '>=', place: this.decode(range.from) };
    let row = range.firstRow;
    const places = this.order.map((column) => `${column}::text`).join(', ');
    for (;;) {
      const values: unknown[] = [];
      const where = [
        this.filter(undefined, values),
        this.compare(lower.op, lower.place, values),
        this.compare('<=', to, values),
      ].join(' AND ');
      const page = await this.query({
        // Qualified order: the text copies of the order columns share their names in the output.
        text: `SELECT ${places}, source.* FROM ${this.table} AS source WHERE ${where}
               ORDER BY ${this.order.map((column) => `source.${column}`).join(', ')} LIMIT ${PAGE_ROWS}`,
        values,
        rowMode: 'array',
      });
      const names = page.fields.slice(this.order.length).map((f) => f.name);
      let last: Place | undefined;
      for (const raw of page.rows) {
        const cells = ValuesSchema.parse(raw);
        last = cells.slice(0, this.order.length).map((cell) => cell ?? '');
        yield { row: row++, ...this.keyed(last), values: this.valuesOf(names, cells) };
      }
      // A full page that ends on the range's last place has read it all: no need to ask for an empty next page.
      if (!last || page.rows.length < PAGE_ROWS || samePlace(last, to)) return;
      lower = { op: '>', place: last };
    }
  }

  /** The row's key, and its version in incremental order, from its place: [key] or [cursor value, key]. */
  private keyed(place: Place): { key: string; version?: string } {
    return this.incremental ? { key: place[1]!, version: place[0]! } : { key: place[0]! };
  }

  private valuesOf(names: readonly string[], cells: readonly (string | null)[]): Record<string, string> {
    const data = cells.slice(this.order.length);
    return Object.fromEntries(names.map((name, i) => [name, data[i] ?? '']));
  }

  /**
   * One query for the chunk's keys (a chunk of the retry set is a few hundred at most): the key compared in the
   * column's own type, cast from the text parameters, so its index serves. A row whose cursor value became null has
   * no place in incremental order, and is left out like a deleted one.
   */
  async *readKeys(keys: readonly string[], firstRow: number): AsyncIterable<SourceRow> {
    await this.check();
    if (keys.length === 0) return;
    const values: unknown[] = [keys];
    const key = quoteIdentifier(this.ref.key);
    const places = this.order.map((column) => `${column}::text`).join(', ');
    const page = await this.query({
      text: `SELECT ${places}, source.* FROM ${this.table} AS source
             WHERE ${this.filter(undefined, values)} AND source.${key} = ANY($1)`,
      values,
      rowMode: 'array',
    });
    const names = page.fields.slice(this.order.length).map((f) => f.name);
    const found = new Map<string, SourceRow>();
    for (const raw of page.rows) {
      const cells = ValuesSchema.parse(raw);
      const place = cells.slice(0, this.order.length).map((cell) => cell ?? '');
      const keyed = this.keyed(place);
      found.set(keyed.key, { row: 0, ...keyed, values: this.valuesOf(names, cells) });
    }
    for (const [i, wanted] of keys.entries()) {
      const row = found.get(wanted);
      if (row) yield { ...row, row: firstRow + i };
    }
  }

  async close(): Promise<void> {
    await this.lease.release();
  }
}

/**
 * Opens a table or view of a configured connection. `resolveConnectionString` maps the reference's
 * connection name to its connection string, so the string never travels in the reference; the boundary says which
 * tables of the connection a sync may read.
 */
export function openPostgresSource(
  ref: PostgresSourceRef,
  resolveConnectionString: (name: string) => string,
  boundary: SourceBoundary,
  lookBackSeconds = 0,
): PostgresSource {
  return new PostgresSource(ref, leasePool(resolveConnectionString(ref.connection)), boundary, lookBackSeconds);
}

/** A table or view of a connection in the config's `sources.postgres`, if that connection lists it. */
export const postgresKind = {
  ...postgresRef,
  open: async (ref, context) => {
    if (!context.resolvePostgresConnection) {
      throw new ConfigError(`PostgreSQL source ${ref.table}: no PostgreSQL connections are configured`);
    }
    return openPostgresSource(
      ref,
      context.resolvePostgresConnection,
      context.boundary,
      context.postgresLookBackSeconds?.(ref.connection),
    );
  },
} satisfies SourceKind<PostgresSourceRef>;
