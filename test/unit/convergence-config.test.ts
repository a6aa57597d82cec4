import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/accounts.js';
import { ConfigError } from '../../src/core/errors.js';

const PATH = '/etc/leadsync/leadsync.yaml';

function config(convergence: unknown) {
  return parseConfig(
    { accounts: {}, sources: { postgres: { warehouse: { urlEnv: 'WAREHOUSE_URL' } } }, convergence },
    PATH,
  );
}

function failure(convergence: unknown): string {
  try {
    config(convergence);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('the config was accepted');
}

describe('the convergence setting', () => {
  it('is off unless given, and defaults to 5 runs before a row is stuck and 90 days of changelog', () => {
    expect(config(undefined).convergence).toBeUndefined();
    expect(config({ table: { connection: 'warehouse', table: 'ops.leadsync_rows' } }).convergence).toEqual({
      table: { connection: 'warehouse', table: 'ops.leadsync_rows' },
      stuckAfterRuns: 5,
    });
    expect(
      config({ table: { connection: 'warehouse', table: 'rows' }, changelog: { table: 'ops.changelog' } }).convergence
        ?.changelog,
    ).toEqual({ table: 'ops.changelog', retentionDays: 90 });
  });

  it('names the key of a bad value, before any call', () => {
    const table = { connection: 'warehouse', table: 'rows' };
    expect(failure({ table: { connection: 'warehouse', table: 'rows; DROP TABLE leads' } })).toContain(
      'convergence.table.table: must be a table name',
    );
    expect(failure({ table, stuckAfterRuns: 0 })).toMatch(/convergence\.stuckAfterRuns: /);
    expect(failure({ table, changelog: { table: 'log', retentionDays: -1 } })).toMatch(
      /convergence\.changelog\.retentionDays: /,
    );
    expect(failure({ table, retries: 3 })).toMatch(/convergence: Unrecognized key: "retries"/);
    expect(failure({ table: { connection: 'crm', table: 'rows' } })).toBe(
      `${PATH}: convergence.table.connection: no connection 'crm' in sources.postgres (configured: warehouse)`,
    );
  });
});
