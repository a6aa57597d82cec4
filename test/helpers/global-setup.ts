// One Temporal server and one bundle of the workflows for a whole integration run: one per file costs seconds each.
import type { TestProject } from 'vitest/node';
import { ensureTemporalCli } from '../../tools/temporal/cli-build.js';
import { connectClient, temporalConnectionSettings } from '../../src/temporal/connection.js';
import { existingTemporalCluster, startDevServer, type TemporalEndpoint } from '../../tools/temporal/dev-server.js';
import { ensureSearchAttributes } from '../../tools/temporal/operator.js';
import { LEADSYNC_SEARCH_ATTRIBUTES } from '../../src/core/search-attributes.js';
import { provideWorkflowBundle } from './run-bundle.js';
// For the ProvidedContext declaration.
import type {} from './temporal.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The workflows are bundled while the server starts.
  const [removeBundle, endpoint] = await Promise.all([provideWorkflowBundle(project), temporalEndpoint(project)]);
  project.provide('temporalAddress', endpoint.address);
  project.provide('temporalNamespace', endpoint.namespace);
  project.provide('temporalUiUrl', endpoint.uiUrl);
  return async () => {
    await endpoint.stop();
    await removeBundle();
  };
}

async function temporalEndpoint(project: TestProject): Promise<TemporalEndpoint> {
  const endpoint = existingTemporalCluster();
  if (!endpoint) {
    const cli = await ensureTemporalCli();
    return startDevServer({
      cliPath: cli.path,
      searchAttributes: LEADSYNC_SEARCH_ATTRIBUTES,
      logFile: `test-output/temporal-dev-server-${project.name}.log`,
    });
  }
  // A cluster we did not start lacks our search attributes until someone adds them; reached as leadsync reaches it.
  const connection = await connectClient(await temporalConnectionSettings());
  try {
    await ensureSearchAttributes(connection, endpoint.namespace, LEADSYNC_SEARCH_ATTRIBUTES);
  } finally {
    await connection.close();
  }
  return endpoint;
}
