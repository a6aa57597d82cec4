import type { Account } from './accounts.js';
import { ConfigError } from './errors.js';

/** Secrets of one account, read from the worker's environment. Never passed to Temporal. */
export type Credentials = Record<string, string>;

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

/** Replaces every known secret in a text, so vendor echoes and stack traces cannot leak one. */
export class Redactor {
  private readonly secrets: string[];
  constructor(secrets: Iterable<string>) {
    this.secrets = [...secrets].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  }
  redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) {
      out = out.split(secret).join('[REDACTED]');
      const encoded = encodeURIComponent(secret);
      if (encoded !== secret) out = out.split(encoded).join('[REDACTED]');
    }
    return out;
  }
}
