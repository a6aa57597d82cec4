// One Temporal server for the whole integration run: starting one per file would cost seconds each.
import type { TestProject } from 'vitest/node';
import { ensureTemporalCli } from '../../tools/temporal/cli-build.js';
import { connectClient, temporalConnectionSettings } from '../../src/temporal/connection.js';
import { existingTemporalCluster, startDevServer, type TemporalEndpoint } from '../../tools/temporal/dev-server.js';
import { ensureSearchAttributes } from '../../tools/temporal/operator.js';
import { LEADSYNC_SEARCH_ATTRIBUTES } from '../../src/core/search-attributes.js';
// For the ProvidedContext declaration.
import type {} from './temporal.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let endpoint: TemporalEndpoint | undefined = existingTemporalCluster();
  if (endpoint) {
    // A cluster we did not start lacks our search attributes until someone adds them; reached as leadsync reaches it.
    const connection = await connectClient(await temporalConnectionSettings());
    try {
      await ensureSearchAttributes(connection, endpoint.namespace, LEADSYNC_SEARCH_ATTRIBUTES);
    } finally {
      await connection.close();
    }
  } else {
    const cli = await ensureTemporalCli();
    endpoint = await startDevServer({
      cliPath: cli.path,
      searchAttributes: LEADSYNC_SEARCH_ATTRIBUTES,
      logFile: `test-output/temporal-dev-server-${project.name}.log`,
    });
  }
  project.provide('temporalAddress', endpoint.address);
  project.provide('temporalNamespace', endpoint.namespace);
  project.provide('temporalUiUrl', endpoint.uiUrl);
  const started = endpoint;
  return () => started.stop();
}
