import pg from 'pg';
import { z } from 'zod';
import { urlPasswords } from '../observability/redactor.js';
import { ConfigError } from '../core/errors.js';

function isPostgresUrl(value: string): boolean {
  try {
    return ['postgres:', 'postgresql:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

/**
 * The tables and views a sync may read through a connection: `schema.table`, or `schema.*` for every one of a
 * schema. Schema-qualified, so the search path cannot make a listed name mean another table.
 */
export const AllowedTableSchema = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_$]*\.([A-Za-z_][A-Za-z0-9_$]*|\*)$/,
    'must be schema.table or schema.* (schema-qualified, names as in the catalog)',
  );

/**
 * How far before the mark an incremental sync starts reading: the longest a transaction writing the table may stay
 * open. A row it writes carries a cursor value from before it committed, possibly before the mark of a sync that
 * scanned meanwhile; reading that far back again catches it (the rows read twice are upserts of the same lead).
 */
export const DEFAULT_LOOK_BACK_SECONDS = 60;
const LookBackSchema = z
  .number()
  .int()
  .min(0)
  .max(7 * 24 * 3600)
  .default(DEFAULT_LOOK_BACK_SECONDS);

/**
 * One entry of the config's PostgreSQL connections: the name of the environment variable holding the
 * connection string, or a URL written out when it holds no secret (trust or .pgpass authentication), and the
 * tables syncs may read through it (none when absent: a connection for the rejects table needs no list).
 */
export const PostgresConnectionSchema = z.union([
  z
    .object({
      urlEnv: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the name of an environment variable, not the URL itself'),
      tables: z.array(AllowedTableSchema).default([]),
      lookBackSeconds: LookBackSchema,
    })
    .strict(),
  z
    .object({
      url: z
        .string()
        .refine(isPostgresUrl, 'must be a postgres:// or postgresql:// URL')
        // The driver reads `?password=` as readily as the userinfo's: either puts a secret in the config file.
        .refine((url) => urlPasswords(url).length === 0, {
          message: 'holds a password: put the URL in an environment variable and name it with urlEnv',
        }),
      tables: z.array(AllowedTableSchema).default([]),
      lookBackSeconds: LookBackSchema,
    })
    .strict(),
]);
export type PostgresConnection = z.infer<typeof PostgresConnectionSchema>;

/** Turns the configured connections into the lookup a PostgreSQL source needs, reading env vars on use. */
export function postgresConnectionResolver(
  connections: Record<string, z.input<typeof PostgresConnectionSchema>>,
  env: NodeJS.ProcessEnv = process.env,
): (name: string) => string {
  return (name) => {
    const entry = Object.hasOwn(connections, name) ? connections[name] : undefined;
    if (!entry) {
      const known = Object.keys(connections);
      throw new ConfigError(
        `no PostgreSQL connection named '${name}' in the config (configured: ${known.length ? known.join(', ') : 'none'})`,
      );
    }
    if ('url' in entry) return entry.url;
    const url = env[entry.urlEnv];
    if (!url) throw new ConfigError(`PostgreSQL connection '${name}': environment variable ${entry.urlEnv} is not set`);
    if (!isPostgresUrl(url)) {
      throw new ConfigError(
        `PostgreSQL connection '${name}': ${entry.urlEnv} does not hold a postgres:// or postgresql:// URL`,
      );
    }
    return url;
  };
}

/** Each configured connection's look-back, by name (none for a name the config lacks: it fails elsewhere). */
export function postgresLookBack(config: { postgresConnections: Record<string, PostgresConnection> }) {
  return (name: string): number =>
    Object.hasOwn(config.postgresConnections, name) ? config.postgresConnections[name]!.lookBackSeconds : 0;
}

/** PostgreSQL errors that mean a reference or the config is wrong, by SQLSTATE: retrying cannot help. */
export const POSTGRES_CONFIG_ERRORS: Readonly<Record<string, string>> = {
  '42P01': 'the table or view does not exist (names are case-sensitive)',
  '3F000': 'the schema does not exist',
  '42703': 'a column does not exist',
  '42501': 'permission denied',
  '42883': 'a column cannot be ordered or compared',
  '3D000': 'the database does not exist',
  '28000': 'the connection was refused for this user',
  '28P01': 'the password was refused',
};

const ISO_DATE_TIME = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d+))?$/;
const ISO_DATE_TIME_ZONE = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d+))?([+-])(\d\d)(?::(\d\d))?(?::(\d\d))?$/;

function milliseconds(fraction: string | undefined): string {
  return (fraction ?? '').padEnd(3, '0').slice(0, 3);
}

/** `timestamp`: no zone to convert, so the wall-clock time in ISO form, like toISOString without the Z. */
function timestampText(text: string): string {
  const m = ISO_DATE_TIME.exec(text);
  return m ? `${m[1]}T${m[2]}.${milliseconds(m[3])}` : text;
}

/** `timestamptz`: the instant in UTC, exactly as Date.prototype.toISOString writes it, whatever the session zone. */
function timestamptzText(text: string): string {
  const m = ISO_DATE_TIME_ZONE.exec(text);
  if (!m) return text;
  const [, date, time, fraction, sign, hours, minutes, seconds] = m;
  const local = Date.parse(`${date}T${time}.${milliseconds(fraction)}Z`);
  const offset = (Number(hours) * 3600 + Number(minutes ?? 0) * 60 + Number(seconds ?? 0)) * 1000;
  return new Date(sign === '+' ? local - offset : local + offset).toISOString();
}

const BOOL_OID = 16;
const TIMESTAMP_OID = 1114;
const TIMESTAMPTZ_OID = 1184;
const TEXT_PARSERS: Partial<Record<number, (text: string) => string>> = {
  [BOOL_OID]: (text) => (text === 't' ? 'true' : 'false'),
  [TIMESTAMP_OID]: timestampText,
  [TIMESTAMPTZ_OID]: timestamptzText,
};

/**
 * Every value arrives as PostgreSQL's own text, so nothing is rounded on the way (bigint, numeric,
 * microseconds); only booleans and timestamps are rewritten, to the forms the file sources produce.
 */
const TEXT_TYPES = {
  getTypeParser: ((oid: number) =>
    TEXT_PARSERS[oid] ?? ((text: string) => text)) as pg.CustomTypesConfig['getTypeParser'],
};

interface SharedPool {
  pool: pg.Pool;
  holders: number;
}

/** One pool per connection string per process, however many sources read through it. */
const pools = new Map<string, SharedPool>();

export interface PoolLease {
  pool: pg.Pool;
  /** The last lease of a pool to be released ends it. Releasing twice is harmless. */
  release(): Promise<void>;
}

export function leasePool(connectionString: string): PoolLease {
  let shared = pools.get(connectionString);
  if (!shared) {
    const pool = new pg.Pool({
      connectionString,
      max: 4,
      idleTimeoutMillis: 10_000,
      allowExitOnIdle: true,
      types: TEXT_TYPES,
      // The timestamp rewriting above reads ISO output, whatever the server's default (an `options`
      // parameter in the URL replaces this one).
      options: '-c DateStyle=ISO',
    });
    // An idle connection dropped by the server is discarded by the pool; without a listener it would crash the worker.
    pool.on('error', () => undefined);
    shared = { pool, holders: 0 };
    pools.set(connectionString, shared);
  }
  const held = shared;
  held.holders++;
  let released = false;
  return {
    pool: held.pool,
    release: async () => {
      if (released) return;
      released = true;
      if (--held.holders > 0) return;
      pools.delete(connectionString);
      await held.pool.end();
    },
  };
}

/**
 * Runs `work` in one transaction on a connection of the pool: committed when it returns, rolled back when it throws.
 * A connection that cannot roll back is not handed to the next user of the pool.
 */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch((rollback: unknown) => {
      broken = rollback instanceof Error ? rollback : new Error(String(rollback));
    });
    throw err;
  } finally {
    client.release(broken);
  }
}

const ColumnExistsSchema = z.object({ exists: z.enum(['true', 'false']) });

/**
 * Adds a text column that a table made by an older leadsync lacks, once. Looked up first: ALTER TABLE takes the table's
 * owner even when the column is there, which a table made by an administrator and used by another user would fail;
 * concurrent callers take turns on a lock. Any other user is told what to run, and why the column is wanted.
 */
export async function addMissingColumn(pool: pg.Pool, table: string, column: string, why: string): Promise<void> {
  const { rows } = await pool.query({
    text: `SELECT EXISTS (SELECT 1 FROM pg_attribute
                          WHERE attrelid = $1::regclass AND attname = $2 AND NOT attisdropped) AS exists`,
    values: [table, column],
  });
  if (ColumnExistsSchema.parse(rows[0]).exists === 'true') return;
  try {
    await inTransaction(pool, async (client) => {
      await client.query({ text: 'SELECT pg_advisory_xact_lock(hashtext($1))', values: [table] });
      await client.query(`ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS ${column} text`);
    });
  } catch (err) {
    if (!(err instanceof pg.DatabaseError && err.code === '42501')) throw err;
    throw new ConfigError(
      `has no column ${column}, which ${why}, ` +
        `and this user may not add it: ALTER TABLE ${table} ADD COLUMN ${column} text (as the table's owner)`,
    );
  }
}
