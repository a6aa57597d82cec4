// The cluster project's one server: a real Temporal server on PostgreSQL with its Web UI (tools/temporal/cluster.ts),
// on a database of this run's own, dropped at the end. The files it runs read it through the same provided context
// as the dev server's (test/helpers/temporal.ts), so the same tests run on both.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { TestProject } from 'vitest/node';
import { ensureTemporalCli } from '../../tools/temporal/cli-build.js';
import { dropClusterDatabases, startTemporalCluster } from '../../tools/temporal/cluster.js';
import { LEADSYNC_SEARCH_ATTRIBUTES } from '../../src/core/search-attributes.js';
import { testClusterPostgres } from './cluster.js';
import { provideWorkflowBundle } from './run-bundle.js';
// For the ProvidedContext declaration.
import type {} from './temporal.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The tests drive it with the `temporal` CLI too; build both before the clock of any test starts.
  const [removeBundle] = await Promise.all([provideWorkflowBundle(project), ensureTemporalCli()]);
  const postgres = testClusterPostgres(`leadsync_temporal_test_${randomBytes(4).toString('hex')}`);
  const runDir = 'test-output/temporal-cluster';
  await rm(runDir, { recursive: true, force: true });
  const cluster = await startTemporalCluster({ postgres, runDir, searchAttributes: LEADSYNC_SEARCH_ATTRIBUTES });
  project.provide('temporalAddress', cluster.address);
  project.provide('temporalNamespace', cluster.namespace);
  project.provide('temporalUiUrl', cluster.uiUrl);
  return async () => {
    await cluster.stop();
    await dropClusterDatabases(postgres);
    await removeBundle();
  };
}
