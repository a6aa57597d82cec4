import { mkdtemp, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { ActivityContext } from '../../activities/context.js';
import { parseConfig } from '../../src/config/accounts.js';
import { leasePool } from '../../src/sources/postgres-connection.js';
import type { SourceRef } from '../../src/core/source-registry.js';
import { TEST_CONNECTION, TEST_POSTGRES_URL } from '../helpers/postgres-table.js';
import { VENDORS } from '../../src/vendors/registry.js';
import { LEADSQUARED_ACCOUNT } from '../helpers/accounts.js';

describe("a worker's activity context", () => {
  it('keeps a database pool open from one chunk to the next, and ends it when closed', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'leadsync-context-'));
    const config = parseConfig(
      {
        accounts: {},
        sources: { postgres: { [TEST_CONNECTION]: { url: TEST_POSTGRES_URL, tables: ['pg_catalog.pg_class'] } } },
      },
      join(directory, 'leadsync.yaml'),
    );
    // The client is never used: no chunk here reserves a slot.
    const context = new ActivityContext({
      config,
      client: new Client(),
      workflowTaskQueue: 'unused',
      vendors: VENDORS,
    });
    const source: SourceRef = { kind: 'postgres', connection: TEST_CONNECTION, table: 'pg_class', key: 'oid' };
    const poolOfOneChunk = () =>
      context.withSource(source, async () => {
        const probe = leasePool(TEST_POSTGRES_URL);
        await probe.release();
        return probe.pool;
      });

    const first = await poolOfOneChunk();
    const second = await poolOfOneChunk();
    await context.close();
    const afterClose = leasePool(TEST_POSTGRES_URL);
    await afterClose.release();

    expect(second).toBe(first);
    expect(afterClose.pool).not.toBe(first);
  });

  it('connects anew when a key is rotated in its secret file, and redacts the new key from then on', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'leadsync-context-'));
    const keyFile = join(directory, 'access-key');
    await writeFile(keyFile, 'access-key-before\n');
    const account = { ...LEADSQUARED_ACCOUNT, credentials: { accessKeyFile: keyFile, secretKeyEnv: 'LSQ_SECRET' } };
    const config = parseConfig({ accounts: { acme: account } }, join(directory, 'leadsync.yaml'));
    const context = new ActivityContext({
      config,
      client: new Client(),
      workflowTaskQueue: 'unused',
      vendors: VENDORS,
      env: { LSQ_SECRET: 'secret-key-unchanged' },
    });

    const before = context.connect('acme');
    const unchanged = context.connect('acme');
    await writeFile(keyFile, 'access-key-rotated\n');
    const rotated = context.connect('acme');

    expect(unchanged.client).toBe(before.client);
    expect(rotated.client).not.toBe(before.client);
    expect(context.redactor.redact('key access-key-rotated')).toBe('key [REDACTED]');
    await context.close();
  });

  it('fails a read of a file rewritten in place meanwhile, its size and modification time put back', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'leadsync-context-'));
    const path = join(directory, 'leads.csv');
    await writeFile(path, 'EmailAddress\nbefore@x.io\n');
    // Whole seconds, so that the time put back is the same to the nanosecond.
    await utimes(path, 1_700_000_000, 1_700_000_000);
    const config = parseConfig({ accounts: {} }, join(directory, 'leadsync.yaml'));
    const context = new ActivityContext({
      config,
      client: new Client(),
      workflowTaskQueue: 'unused',
      vendors: VENDORS,
    });
    const source: SourceRef = { kind: 'csv', path };
    const pinned = await context.withSource(source, async (file) => file.pin!());

    const read = context.withSource(
      source,
      async (file) => {
        const rows = await file.countRows();
        // The kernel stamps change times from a clock that moves in ticks of a few milliseconds.
        await sleep(50);
        await writeFile(path, 'EmailAddress\nchange@x.io\n');
        await utimes(path, 1_700_000_000, 1_700_000_000);
        return rows;
      },
      pinned,
    );

    await expect(read).rejects.toThrow(/leads\.csv changed during the sync \(rewritten in place/);
    await context.close();
  });
});
