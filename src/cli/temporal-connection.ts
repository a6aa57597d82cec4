import { existsSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { connectLeadsyncClient } from '../api/connect.js';
import { loadConfig, type LoadedConfig } from '../config/accounts.js';
import { readEnvironment } from '../config/environment.js';
import { temporalConnectionSettings, type TemporalConnectionSettings } from '../temporal/connection.js';

/**
 * The cluster the CLI talks to and how: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS and API key as the `temporal` CLI
 * reads them, over the config's `temporal` section.
 */
export async function temporalTarget(config?: LoadedConfig): Promise<TemporalConnectionSettings> {
  return temporalConnectionSettings(process.env, config ?? (await configIfAny()));
}

/**
 * Where a person can watch a workflow: TEMPORAL_UI_URL, else the dev server's default UI; in the client's namespace
 * when given (it may come from the config), else TEMPORAL_NAMESPACE.
 */
export function webUiLink(workflowId: string, env: NodeJS.ProcessEnv = process.env, namespace?: string): string {
  const { TEMPORAL_UI_URL, TEMPORAL_NAMESPACE } = readEnvironment(env);
  const ui = TEMPORAL_UI_URL.replace(/\/$/, '');
  const ns = namespace ?? TEMPORAL_NAMESPACE;
  return `${ui}/namespaces/${encodeURIComponent(ns)}/workflows/${encodeURIComponent(workflowId)}`;
}

/** Runs `work` with a client of the cluster; `config` is the command's, else the one LEADSYNC_CONFIG names, if any. */
export async function withClient<T>(work: (client: Client) => Promise<T>, config?: LoadedConfig): Promise<T> {
  const client = await connectLeadsyncClient({ config: config ?? (await configIfAny()) });
  try {
    return await work(client);
  } finally {
    await client.connection.close();
  }
}

/**
 * Commands without a --config (status, schedules, control) still honour the config's `temporal` section: the one
 * LEADSYNC_CONFIG names, else ./leadsync.yaml when there is one.
 */
async function configIfAny(): Promise<LoadedConfig | undefined> {
  const path = readEnvironment().LEADSYNC_CONFIG ?? (existsSync('leadsync.yaml') ? 'leadsync.yaml' : undefined);
  return path ? loadConfig(path) : undefined;
}
