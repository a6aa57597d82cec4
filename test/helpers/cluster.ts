import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import {
  dropClusterDatabases,
  localClusterPostgres,
  startTemporalCluster,
  type ClusterPostgres,
  type TemporalCluster,
  type TemporalClusterOptions,
} from '../../tools/temporal/cluster.js';
import { LEADSYNC_SEARCH_ATTRIBUTES } from '../../src/core/search-attributes.js';

/** The machine's PostgreSQL, as the other tests reach it (LEADSYNC_TEST_POSTGRES_URL's host, port and user). */
export function testClusterPostgres(database: string): ClusterPostgres {
  const url = process.env.LEADSYNC_TEST_POSTGRES_URL;
  if (!url) return localClusterPostgres(database);
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 5432),
    user: decodeURIComponent(parsed.username) || 'postgres',
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    database,
  };
}

/**
 * A headless cluster of the test file's own (for a test that restarts it, or changes how it is reached), on a fresh
 * database: started before the file's tests (with the options `options` resolves to, e.g. TLS files made first),
 * stopped and its databases dropped after them. Read `fixture.cluster` inside tests.
 */
export function ownClusterFixture(
  options: () => Promise<Partial<TemporalClusterOptions>> = () => Promise.resolve({}),
): { cluster: TemporalCluster } {
  const fixture = {} as { cluster: TemporalCluster };
  const postgres = testClusterPostgres(`leadsync_temporal_test_${randomBytes(4).toString('hex')}`);
  beforeAll(async () => {
    fixture.cluster = await startTemporalCluster({
      postgres,
      runDir: await mkdtemp(join(tmpdir(), 'leadsync-cluster-')),
      headless: true,
      searchAttributes: LEADSYNC_SEARCH_ATTRIBUTES,
      ...(await options()),
    });
  });
  afterAll(async () => {
    await fixture.cluster?.stop();
    await dropClusterDatabases(postgres);
  });
  return fixture;
}
