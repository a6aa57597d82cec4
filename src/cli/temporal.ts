import { Client, Connection } from '@temporalio/client';

/** The cluster the CLI talks to: TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE, as the `temporal` CLI reads them. */
export function temporalTarget(env: NodeJS.ProcessEnv = process.env): { address: string; namespace: string } {
  return {
    address: env.TEMPORAL_ADDRESS?.trim() || 'localhost:7233',
    namespace: env.TEMPORAL_NAMESPACE?.trim() || 'default',
  };
}

/** Where a person can watch a workflow: TEMPORAL_UI_URL, else the dev server's default UI. */
export function webUiLink(workflowId: string, env: NodeJS.ProcessEnv = process.env): string {
  const ui = (env.TEMPORAL_UI_URL?.trim() || 'http://localhost:8233').replace(/\/$/, '');
  return `${ui}/namespaces/${encodeURIComponent(temporalTarget(env).namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

export async function withClient<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const { address, namespace } = temporalTarget();
  const connection = await Connection.connect({ address });
  try {
    return await work(new Client({ connection, namespace }));
  } finally {
    await connection.close();
  }
}
