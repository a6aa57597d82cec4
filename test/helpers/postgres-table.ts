import { readFile, writeFile } from 'node:fs/promises';
import type pg from 'pg';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { loadConfig } from '../../src/config/accounts.js';
import type { LeadSquaredSetup } from './sync-harness.js';

/** The machine's PostgreSQL (trust auth, database `test`); override with LEADSYNC_TEST_POSTGRES_URL. */
export const TEST_POSTGRES_URL =
  process.env.LEADSYNC_TEST_POSTGRES_URL ?? `postgres://${process.env.PGUSER ?? 'postgres'}@127.0.0.1:5432/test`;

/**
 * The name the setup's config gives the test database among its PostgreSQL connections. It reads from exactly the
 * mark on (no look-back), so tests can count every row an incremental run reads.
 */
export const TEST_CONNECTION = 'testdb';
/** The same database with the default look-back: incremental runs start 60 seconds of cursor before the mark. */
export const LOOKING_BACK_CONNECTION = 'testdb_looking_back';

/**
 * Adds the test database to the setup's config file as a named connection, with any other top-level settings that
 * use it (`rejects`), and reloads the config.
 */
export async function withTestDatabase(
  setup: LeadSquaredSetup,
  settings: Record<string, unknown> = {},
): Promise<LeadSquaredSetup> {
  const raw = parseYaml(await readFile(setup.configPath, 'utf8')) as Record<string, unknown>;
  raw.sources = {
    postgres: {
      [TEST_CONNECTION]: { url: TEST_POSTGRES_URL, tables: ['public.*'], lookBackSeconds: 0 },
      [LOOKING_BACK_CONNECTION]: { url: TEST_POSTGRES_URL, tables: ['public.*'] },
    },
  };
  Object.assign(raw, settings);
  await writeFile(setup.configPath, toYaml(raw));
  return { ...setup, config: await loadConfig(setup.configPath) };
}

/** A leads table of its own per test, with a unique key and an updated_at to sync changes by. */
export class LeadsTable {
  private constructor(
    private readonly admin: pg.Client,
    readonly name: string,
  ) {}

  static async create(admin: pg.Client, prefix: string): Promise<LeadsTable> {
    const name = `${prefix}_${process.pid}_${Date.now()}`;
    await admin.query(
      `CREATE TABLE ${name} (id bigint PRIMARY KEY, email text NOT NULL, first_name text, updated_at timestamptz NOT NULL)`,
    );
    return new LeadsTable(admin, name);
  }

  /** Rows `from`..`to` (ids), all at `at`, with a first name that says which version of the row this is. */
  async upsert(from: number, to: number, at: string, version: string): Promise<void> {
    await this.admin.query(
      `INSERT INTO ${this.name} (id, email, first_name, updated_at)
       SELECT i, 'lead-' || i || '@example.com', $3 || '-' || i, $4::timestamptz FROM generate_series($1::bigint, $2::bigint) AS i
       ON CONFLICT (id) DO UPDATE SET first_name = excluded.first_name, updated_at = excluded.updated_at`,
      [from, to, version, at],
    );
  }

  async drop(): Promise<void> {
    await this.admin.query(`DROP TABLE IF EXISTS ${this.name}`);
  }
}

export function email(id: number): string {
  return `lead-${id}@example.com`;
}
