import { Client, Connection } from '@temporalio/client';
import { dataConverterFromEnv } from '../temporal/codec.js';
import { readEnvironment } from '../config/environment.js';

/** The cluster the CLI talks to: TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE, as the `temporal` CLI reads them. */
export function temporalTarget(env: NodeJS.ProcessEnv = process.env): { address: string; namespace: string } {
  const { TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE } = readEnvironment(env);
  return { address: TEMPORAL_ADDRESS, namespace: TEMPORAL_NAMESPACE };
}

/** Where a person can watch a workflow: TEMPORAL_UI_URL, else the dev server's default UI. */
export function webUiLink(workflowId: string, env: NodeJS.ProcessEnv = process.env): string {
  const { TEMPORAL_UI_URL, TEMPORAL_NAMESPACE } = readEnvironment(env);
  const ui = TEMPORAL_UI_URL.replace(/\/$/, '');
  return `${ui}/namespaces/${encodeURIComponent(TEMPORAL_NAMESPACE)}/workflows/${encodeURIComponent(workflowId)}`;
}

export async function withClient<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const { address, namespace } = temporalTarget();
  const connection = await Connection.connect({ address });
  try {
    return await work(new Client({ connection, namespace, dataConverter: dataConverterFromEnv() }));
  } finally {
    await connection.close();
  }
}
