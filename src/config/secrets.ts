import type { LoadedConfig } from './accounts.js';
import { Redactor, urlPasswords } from '../observability/redactor.js';
import { alertSecretVariables, resolveAlertTarget } from './alerts.js';
import { credentialSources, readableSecretFiles, resolveCredentials } from './credentials.js';

/**
 * Variables leadsync (or a library it runs) reads secrets from, whatever the config says: the payload key, the codec
 * server's token, a Temporal Cloud API key or TLS key (given as PEM data, by either of the temporal CLI's names), and
 * the PostgreSQL driver's fallback password.
 */
export const PROCESS_SECRET_VARIABLES = [
  'LEADSYNC_PAYLOAD_KEY',
  'LEADSYNC_CODEC_TOKEN',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS_KEY_DATA',
  'TEMPORAL_TLS_CLIENT_KEY_DATA',
  'PGPASSWORD',
] as const;

/**
 * Every variable a config names a secret by: account credentials, PostgreSQL connection URLs, the Temporal API
 * key's variable, and the alert targets' secrets and Slack URLs.
 */
export function configSecretVariables(config: LoadedConfig): string[] {
  return [
    ...Object.values(config.accounts).flatMap((account) =>
      credentialSources(account).flatMap((source) => ('env' in source ? [source.env] : [])),
    ),
    ...Object.values(config.postgresConnections).flatMap((connection) =>
      'urlEnv' in connection ? [connection.urlEnv] : [],
    ),
    ...(config.temporal?.apiKeyEnv ? [config.temporal.apiKeyEnv] : []),
    ...alertSecretVariables(config.alerts),
  ];
}

/**
 * Every secret the config names is set in the environment, or this throws naming the first that is not: a worker
 * stops at start, or refuses a reload, rather than fail a sync later.
 */
export function requireSecrets(config: LoadedConfig, env: NodeJS.ProcessEnv = process.env): void {
  for (const account of Object.values(config.accounts)) resolveCredentials(account, env);
  for (const [name, target] of Object.entries(config.alerts?.targets ?? {})) resolveAlertTarget(name, target, env);
}

/**
 * The one redactor of a worker process: every secret its environment holds, for the config, for leadsync itself, and
 * by its name (environmentRedactor's), and the accounts' secret files as they read now (a key read later, rotated in
 * its file, joins it when the account connects). Whatever leaves the process (activity failures, log lines) passes it, so a
 * message quoting the environment (a source error echoing a file's first line, a driver error echoing its URL)
 * carries none of them.
 */
export function workerRedactor(config: LoadedConfig, env: NodeJS.ProcessEnv = process.env): Redactor {
  const redactor = environmentRedactor(env, configSecretVariables(config));
  redactor.absorb(new Redactor(Object.values(config.accounts).flatMap(readableSecretFiles)));
  return redactor;
}

/** Names that say a variable holds a secret, for the variables no config names (another library's, a sidecar's). */
const SECRET_NAME = /(^|_)(KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIALS?)$/i;

/**
 * A redactor of a process's environment, for a worker and for the CLI (which may print an error before or without a
 * config): leadsync's own secret variables, any variable named like a secret or holding a URL with a password, and
 * those the configs this process loaded name.
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
