import type { Account } from './accounts.js';
import { ConfigError } from '../core/errors.js';
import type { Credentials } from '../vendors/types.js';

/** Reads the environment variables an account names; the error names the variable, never a value. */
export function resolveCredentials(account: Account, env: NodeJS.ProcessEnv = process.env): Credentials {
  const credentials: Credentials = {};
  for (const [key, variable] of Object.entries(account.credentials) as [string, string][]) {
    const value = env[variable];
    if (!value) {
      throw new ConfigError(
        `account '${account.name}': environment variable ${variable} (credentials.${key}) is not set`,
      );
    }
    credentials[key.replace(/Env$/, '')] = value;
  }
  return credentials;
}
