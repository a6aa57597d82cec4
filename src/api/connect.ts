import { Client } from '@temporalio/client';
import type { LoadedConfig } from '../config/accounts.js';
import { dataConverterFromEnv } from '../temporal/codec.js';
import { connectClient, temporalConnectionSettings } from '../temporal/connection.js';

export interface ConnectOptions {
  env?: NodeJS.ProcessEnv;
  /** A loaded config whose `temporal` section applies under the environment's TEMPORAL_* variables. */
  config?: Pick<LoadedConfig, 'path' | 'temporal'>;
}

/**
 * A Client on the cluster the environment (and config) names, with its TLS or API key and leadsync's payload codec:
 * what a program needs before startSync or createSyncSchedule. Close `client.connection` when done.
 */
export async function connectLeadsyncClient(options: ConnectOptions = {}): Promise<Client> {
  const env = options.env ?? process.env;
  const settings = await temporalConnectionSettings(env, options.config);
  const connection = await connectClient(settings);
  return new Client({ connection, namespace: settings.namespace, dataConverter: dataConverterFromEnv(env) });
}
