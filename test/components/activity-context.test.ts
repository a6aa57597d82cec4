import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { ActivityContext } from '../../activities/context.js';
import { parseConfig } from '../../src/config/accounts.js';
import { leasePool } from '../../src/sources/postgres-connection.js';
import type { SourceRef } from '../../src/core/source-registry.js';
import { TEST_CONNECTION, TEST_POSTGRES_URL } from '../helpers/postgres-table.js';

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
    const context = new ActivityContext({ config, client: new Client(), workflowTaskQueue: 'unused' });
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
});
