import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/accounts.js';
import { ConfigError } from '../../src/core/errors.js';

const PATH = '/etc/leadsync/leadsync.yaml';

function config(rejects: unknown, postgres: Record<string, unknown> = { warehouse: { urlEnv: 'WAREHOUSE_URL' } }) {
  return parseConfig(
    {
      accounts: {},
      sources: { postgres },
      ...(rejects === undefined ? {} : { rejects }),
    },
    PATH,
  );
}

function failure(rejects: unknown, postgres?: Record<string, unknown>): string {
  try {
    config(rejects, postgres);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('the config was accepted');
}

describe('the rejects setting', () => {
  it('defaults to files under .leadsync/rejects, and keeps the old { directory } shape', () => {
    expect(config(undefined)).toMatchObject({ rejectsDirectory: resolve('/etc/leadsync/.leadsync/rejects') });
    expect(config(undefined).rejectsTable).toBeUndefined();
    expect(config({})).toMatchObject({ rejectsDirectory: resolve('/etc/leadsync/.leadsync/rejects') });
    expect(config({ directory: '/var/leadsync/rejects' })).toMatchObject({ rejectsDirectory: '/var/leadsync/rejects' });
    expect(config({ directory: 'rejects' }).rejectsTable).toBeUndefined();
  });

  it('sends rejects to a table of a configured connection, optionally schema-qualified', () => {
    expect(config({ table: { connection: 'warehouse', table: 'leadsync_rejects' } }).rejectsTable).toEqual({
      connection: 'warehouse',
      table: 'leadsync_rejects',
    });
    expect(config({ table: { connection: 'warehouse', table: 'ops.Rejects' } }).rejectsTable).toEqual({
      connection: 'warehouse',
      table: 'ops.Rejects',
    });
  });

  it('names the setting when the table reference is wrong', () => {
    expect(failure({ table: { connection: 'warehouse', table: 'rejects; DROP TABLE leads' } })).toContain(
      'rejects.table.table: must be a table name, optionally schema-qualified (schema.table)',
    );
    expect(failure({ table: { connection: 'postgres://u:p@db/x', table: 'rejects' } })).toContain(
      'rejects.table.connection: must name a configured connection, not be a connection string',
    );
    expect(failure({ table: { table: 'rejects' } })).toMatch(/rejects\.table\.connection: .*/);
    expect(failure({ table: { connection: 'warehouse', table: 'rejects', url: 'postgres://db' } })).toMatch(
      /rejects\.table: Unrecognized key: "url"/,
    );
    expect(failure({ table: 'rejects' })).toMatch(/rejects\.table: /);
  });

  it('names the setting when it is neither a directory nor a table, or both', () => {
    expect(failure({ directory: 'rejects', table: { connection: 'warehouse', table: 'rejects' } })).toContain(
      'rejects: give either directory (files) or table (PostgreSQL), not both',
    );
    expect(failure({ file: 'rejects.csv' })).toMatch(/rejects: Unrecognized key: "file"/);
    expect(failure({ directory: '' })).toContain('rejects.directory: must be a directory path');
  });

  it('fails at load when the table names a connection the config does not have', () => {
    expect(failure({ table: { connection: 'warehouse2', table: 'rejects' } })).toBe(
      `${PATH}: rejects.table.connection: no connection 'warehouse2' in sources.postgres (configured: warehouse)`,
    );
    expect(failure({ table: { connection: 'warehouse', table: 'rejects' } }, {})).toBe(
      `${PATH}: rejects.table.connection: no connection 'warehouse' in sources.postgres (configured: none)`,
    );
  });
});
