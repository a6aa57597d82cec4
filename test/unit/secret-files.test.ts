import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveCredentials } from '../../src/config/credentials.js';
import { requireSecrets, workerRedactor } from '../../src/config/secrets.js';
import { ConfigError } from '../../src/core/errors.js';
import { parseConfig } from '../../src/config/accounts.js';
import { LEADSQUARED_ACCOUNT, parsedAccount } from '../helpers/accounts.js';

async function secretDirectory(files: Record<string, string>): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'leadsync-secrets-'));
  for (const [name, content] of Object.entries(files)) await writeFile(join(directory, name), content);
  return directory;
}

function accountReading(directory: string, credentials: Record<string, string> = {}) {
  return {
    ...LEADSQUARED_ACCOUNT,
    credentials: {
      accessKeyFile: join(directory, 'access-key'),
      secretKeyEnv: 'LSQ_SECRET_KEY',
      ...credentials,
    },
  };
}

describe('credentials read from secret files', () => {
  it('reads a key from its file, without the newline the file ends in, beside one from the environment', async () => {
    const directory = await secretDirectory({ 'access-key': 'lsq-access-from-file\n' });
    const account = parsedAccount('acme', accountReading(directory));

    const credentials = resolveCredentials(account, { LSQ_SECRET_KEY: 'lsq-secret-from-env' });

    expect(credentials).toEqual({ accessKey: 'lsq-access-from-file', secretKey: 'lsq-secret-from-env' });
  });

  it('refuses a missing or empty file naming the account, the key and the file, never a value', async () => {
    const directory = await secretDirectory({ 'empty-key': '\n' });
    const missing = parsedAccount('acme', accountReading(directory));
    const empty = parsedAccount('acme', accountReading(directory, { accessKeyFile: join(directory, 'empty-key') }));
    const env = { LSQ_SECRET_KEY: 'lsq-secret-from-env' };

    expect(() => resolveCredentials(missing, env)).toThrow(ConfigError);
    expect(() => resolveCredentials(missing, env)).toThrow(
      `account 'acme': credentials.accessKeyFile: cannot read ${join(directory, 'access-key')} (ENOENT)`,
    );
    expect(() => resolveCredentials(empty, env)).toThrow(
      `account 'acme': credentials.accessKeyFile: ${join(directory, 'empty-key')} is empty`,
    );
  });

  it('stops a worker at start on an unreadable secret file, as on an unset variable', async () => {
    const directory = await secretDirectory({});
    const config = parseConfig({ accounts: { acme: accountReading(directory) } }, '/etc/leadsync/leadsync.yaml');

    expect(() => requireSecrets(config, { LSQ_SECRET_KEY: 'lsq-secret-from-env' })).toThrow(
      /credentials\.accessKeyFile/,
    );
  });

  it("redacts what a secret file holds in the worker's messages", async () => {
    const directory = await secretDirectory({ 'access-key': 'lsq-access-from-file\n' });
    const config = parseConfig({ accounts: { acme: accountReading(directory) } }, '/etc/leadsync/leadsync.yaml');

    const redacted = workerRedactor(config, {}).redact('401 for key lsq-access-from-file');

    expect(redacted).toBe('401 for key [REDACTED]');
  });

  it('refuses a credential named twice or not at all, and a file path that is not absolute, naming the key', () => {
    const twice = { ...LEADSQUARED_ACCOUNT, credentials: { ...LEADSQUARED_ACCOUNT.credentials, accessKeyFile: '/a' } };
    const none = { ...LEADSQUARED_ACCOUNT, credentials: { secretKeyEnv: 'LSQ_SECRET_KEY' } };
    const relative = { ...LEADSQUARED_ACCOUNT, credentials: { accessKeyFile: 'key', secretKeyEnv: 'X' } };

    expect(() => parsedAccount('acme', twice)).toThrow(
      /accounts\.acme\.credentials\.accessKeyFile.*two sources for 'accessKey'/,
    );
    expect(() => parsedAccount('acme', none)).toThrow(
      /accounts\.acme\.credentials\.accessKeyEnv.*no source for 'accessKey'/,
    );
    expect(() => parsedAccount('acme', relative)).toThrow(/accounts\.acme\.credentials\.accessKeyFile.*absolute path/);
  });
});
