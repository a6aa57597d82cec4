import type { Account } from './accounts.js';
import { ConfigError } from '../core/errors.js';
import type { Credentials } from '../vendors/types.js';

/** Reads the environment variables an account names; the error names the variable, never a value. */
export function resolveCredentials(account: Account, env: NodeJS.ProcessEnv = process.env): Credentials {
  return Object.fromEntries(
    Object.entries(account.credentials).map(([key, variable]) => {
      const value = env[variable];
      if (!value) {
        throw new ConfigError(
          `account '${account.name}': environment variable ${variable} (credentials.${key}) is not set`,
        );
      }
      return [key.replace(/Env$/, ''), value];
    }),
  );
}
