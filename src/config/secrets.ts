import type { LoadedConfig } from './accounts.js';
import { Redactor, urlPasswords } from '../observability/redactor.js';

/**
 * Variables leadsync (or a library it runs) reads secrets from, whatever the config says: the payload key, the codec
 * server's token, a Temporal Cloud API key or TLS key, and the PostgreSQL driver's fallback password.
 */
export const PROCESS_SECRET_VARIABLES = [
  'LEADSYNC_PAYLOAD_KEY',
  'LEADSYNC_CODEC_TOKEN',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS_CLIENT_KEY_DATA',
  'PGPASSWORD',
] as const;

/** Every variable a config names a secret by: account credentials and PostgreSQL connection URLs. */
export function configSecretVariables(config: LoadedConfig): string[] {
  return [
    ...Object.values(config.accounts).flatMap((account) => Object.values(account.credentials)),
    ...Object.values(config.postgresConnections).flatMap((connection) =>
      'urlEnv' in connection ? [connection.urlEnv] : [],
    ),
  ];
}

/**
 * The one redactor of a worker process: every secret its environment holds for the config and for leadsync itself.
 * Whatever leaves the process (activity failures, log lines) passes it, so a message quoting the environment (a
 * source error echoing a file's first line, a driver error echoing its URL) carries none of them.
 */
export function workerRedactor(config: LoadedConfig, env: NodeJS.ProcessEnv = process.env): Redactor {
  return new Redactor(valuesOf([...configSecretVariables(config), ...PROCESS_SECRET_VARIABLES], env));
}

/** Names that say a variable holds a secret, for a process that has no config to name them (the CLI's own errors). */
const SECRET_NAME = /(^|_)(KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIALS?)$/i;

/**
 * A redactor for the CLI, which may print an error before or without a config: leadsync's own secret variables, any
 * variable named like a secret or holding a URL with a password, and those of the configs this process loaded.
 */
export function environmentRedactor(
  env: NodeJS.ProcessEnv = process.env,
  configVariables: Iterable<string> = [],
): Redactor {
  const variables = Object.entries(env)
    .filter(([name, value]) => SECRET_NAME.test(name) || (value !== undefined && urlPasswords(value).length > 0))
    .map(([name]) => name);
  return new Redactor(valuesOf([...variables, ...configVariables, ...PROCESS_SECRET_VARIABLES], env));
}

function valuesOf(variables: readonly string[], env: NodeJS.ProcessEnv): string[] {
  return variables.flatMap((variable) => env[variable] ?? []);
}
