import { readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { EnvRefSchema } from './env-ref.js';
import { ConfigError } from '../core/errors.js';
import type { Credentials } from '../vendors/types.js';

/**
 * Where one credential of an account is read: an environment variable (`<key>Env`), or a file (`<key>File`), such as a
 * Kubernetes Secret or Docker secret mounted into the worker. A file is read each time an account connects, so a key
 * rotated in the mounted file, or the file of an account a reload added, is taken without a restart.
 */
export type CredentialSource = { key: string; env: string } | { key: string; file: string };

/** What reading an account's credentials needs of it (the account type lives in accounts.ts, which imports this). */
interface AccountCredentials {
  name: string;
  credentials: Record<string, string | undefined>;
}

const SecretFileSchema = z
  .string()
  .refine(
    isAbsolute,
    'must be an absolute path to a file holding the secret (a mounted secret), not the secret itself',
  );

/** The credentials block of a vendor's account: for each key, exactly one of `<key>Env` and `<key>File`. */
export function credentialsSchema(keys: readonly string[]) {
  const shape = Object.fromEntries(
    keys.flatMap((key) => [
      [`${key}Env`, EnvRefSchema.optional()],
      [`${key}File`, SecretFileSchema.optional()],
    ]),
  );
  return z
    .object(shape)
    .strict()
    .superRefine((given, ctx) => {
      for (const key of keys) {
        const named = [`${key}Env`, `${key}File`].filter((name) => given[name] !== undefined);
        if (named.length === 1) continue;
        ctx.addIssue({
          code: 'custom',
          path: [named[1] ?? `${key}Env`],
          message:
            named.length === 0
              ? `names no source for '${key}': give ${key}Env (an environment variable) or ${key}File (a file)`
              : `names two sources for '${key}': give ${key}Env or ${key}File, not both`,
        });
      }
    });
}

/** Each credential of the account and where it is read from. */
export function credentialSources(account: Pick<AccountCredentials, 'credentials'>): CredentialSource[] {
  return Object.entries(account.credentials).flatMap(([name, where]) => {
    if (where === undefined) return [];
    const key = name.replace(/(Env|File)$/, '');
    return [name.endsWith('File') ? { key, file: where } : { key, env: where }];
  });
}

/**
 * Reads an account's credentials from the environment variables and files it names; the error names the account, the
 * key and the variable or file, never a value.
 */
export function resolveCredentials(account: AccountCredentials, env: NodeJS.ProcessEnv = process.env): Credentials {
  return Object.fromEntries(
    credentialSources(account).map((source) => [source.key, readCredential(account, source, env)]),
  );
}

function readCredential(account: AccountCredentials, source: CredentialSource, env: NodeJS.ProcessEnv): string {
  const where = `account '${account.name}': credentials.${source.key}`;
  if ('env' in source) {
    const value = env[source.env];
    if (!value) {
      throw new ConfigError(
        `account '${account.name}': environment variable ${source.env} (credentials.${source.key}Env) is not set`,
      );
    }
    return value;
  }
  let text: string;
  try {
    text = readFileSync(source.file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `${where}File: cannot read ${source.file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  // A secret file written by `echo` or an editor ends in a newline that is no part of the key.
  const value = text.replace(/\r?\n$/, '');
  if (!value) throw new ConfigError(`${where}File: ${source.file} is empty`);
  return value;
}

/** The values of the account's secret files that can be read now: what a redactor must also know. */
export function readableSecretFiles(account: AccountCredentials): string[] {
  return credentialSources(account).flatMap((source) => {
    if (!('file' in source)) return [];
    try {
      return [readCredential(account, source, {})];
    } catch {
      return [];
    }
  });
}
