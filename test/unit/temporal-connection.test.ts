import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/accounts.js';
import { ConfigError } from '../../src/core/errors.js';
import { connectClient, connectWorker, temporalConnectionSettings } from '../../src/temporal/connection.js';

let dir: string;
const CERT = '-----BEGIN CERTIFICATE-----\nclient\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n';
const CA = '-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'leadsync-tls-'));
  await writeFile(join(dir, 'client.pem'), CERT);
  await writeFile(join(dir, 'client.key'), KEY);
  await writeFile(join(dir, 'ca.pem'), CA);
});

const text = (bytes: Uint8Array | undefined) => (bytes ? Buffer.from(bytes).toString('utf8') : undefined);

describe('temporalConnectionSettings', () => {
  it('connects in plaintext to localhost:7233 and the default namespace when nothing is set', async () => {
    expect(await temporalConnectionSettings({})).toEqual({
      address: 'localhost:7233',
      namespace: 'default',
      tls: undefined,
      apiKey: undefined,
    });
  });

  it('reads the client certificate, key, CA and server name from the variables the temporal CLI reads', async () => {
    const settings = await temporalConnectionSettings({
      TEMPORAL_ADDRESS: 'acme.a1b2c.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'acme.a1b2c',
      TEMPORAL_TLS_CERT: join(dir, 'client.pem'),
      TEMPORAL_TLS_KEY: join(dir, 'client.key'),
      TEMPORAL_TLS_CA: join(dir, 'ca.pem'),
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    });

    expect(settings).toMatchObject({ address: 'acme.a1b2c.tmprl.cloud:7233', namespace: 'acme.a1b2c' });
    expect(settings.tls?.serverNameOverride).toBe('temporal.internal');
    expect(text(settings.tls?.clientCertPair?.crt)).toBe(CERT);
    expect(text(settings.tls?.clientCertPair?.key)).toBe(KEY);
    expect(text(settings.tls?.serverRootCACertificate)).toBe(CA);
  });

  it('takes the PEM itself from the *_DATA variables, and the long names of the CLI profile variables', async () => {
    const settings = await temporalConnectionSettings({
      TEMPORAL_TLS_CLIENT_CERT_DATA: CERT,
      TEMPORAL_TLS_CLIENT_KEY_PATH: join(dir, 'client.key'),
      TEMPORAL_TLS_CA_DATA: CA,
    });

    expect(text(settings.tls?.clientCertPair?.crt)).toBe(CERT);
    expect(text(settings.tls?.clientCertPair?.key)).toBe(KEY);
    expect(text(settings.tls?.serverRootCACertificate)).toBe(CA);
  });

  it('turns TLS on for an API key (as Temporal Cloud wants) unless TEMPORAL_TLS=false', async () => {
    const cloud = await temporalConnectionSettings({ TEMPORAL_API_KEY: 'key-123' });
    expect(cloud).toMatchObject({ tls: {}, apiKey: 'key-123' });

    const local = await temporalConnectionSettings({ TEMPORAL_API_KEY: 'key-123', TEMPORAL_TLS: 'false' });
    expect(local).toMatchObject({ tls: undefined, apiKey: 'key-123' });

    expect((await temporalConnectionSettings({ TEMPORAL_TLS: 'true' })).tls).toEqual({});
  });

  it.each([
    [{ TEMPORAL_TLS_CERT: 'x.pem' }, /TEMPORAL_TLS_CERT is set but TEMPORAL_TLS_KEY/],
    [{ TEMPORAL_TLS_KEY_DATA: KEY }, /TEMPORAL_TLS_KEY_DATA is set but TEMPORAL_TLS_CERT/],
    [{ TEMPORAL_TLS_CA: '/nowhere/ca.pem' }, /TEMPORAL_TLS_CA=\/nowhere\/ca.pem: ENOENT/],
    [{ TEMPORAL_TLS_CA: 'a.pem', TEMPORAL_TLS_CA_DATA: CA }, /TEMPORAL_TLS_CA and TEMPORAL_TLS_CA_DATA are both set/],
    [{ TEMPORAL_TLS: 'false', TEMPORAL_TLS_CA_DATA: CA }, /TEMPORAL_TLS is false but TLS settings are given/],
    [{ TEMPORAL_TLS: 'yes' }, /TEMPORAL_TLS: expected true or false/],
    [{ TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'true' }, /set TEMPORAL_TLS_SERVER_NAME/],
    [{ TEMPORAL_ADDRESS: 'https://x:7233' }, /TEMPORAL_ADDRESS: expected host:port/],
  ])('refuses %j before any connection, naming the variable', async (env, message) => {
    const failure = await temporalConnectionSettings(env).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ConfigError);
    expect((failure as Error).message).toMatch(message);
  });

  it.each([
    [
      { TEMPORAL_ADDRESS: 'temporal.internal:7233' },
      /^TEMPORAL_API_KEY: .* clear text to temporal.internal:7233 \(TEMPORAL_ADDRESS\), since TLS is off \(TEMPORAL_TLS\)/,
    ],
    [{ TEMPORAL_ADDRESS: '192.0.2.7:7233' }, /^TEMPORAL_API_KEY: .* clear text to 192.0.2.7:7233/],
  ])('refuses to send an API key without TLS to another machine (%j), naming the settings', async (env, message) => {
    const failure = await temporalConnectionSettings({
      ...env,
      TEMPORAL_API_KEY: 'secret-key-value',
      TEMPORAL_TLS: 'false',
    }).catch((err: unknown) => err);

    expect(failure).toBeInstanceOf(ConfigError);
    expect((failure as Error).message).toMatch(message);
    expect((failure as Error).message).not.toContain('secret-key-value');
  });

  it.each(['localhost:7233', '127.0.0.1:7233'])(
    'sends an API key without TLS to this machine (%s), as to a dev server',
    async (address) => {
      expect(
        await temporalConnectionSettings({ TEMPORAL_ADDRESS: address, TEMPORAL_API_KEY: 'k', TEMPORAL_TLS: 'false' }),
      ).toMatchObject({ address, tls: undefined, apiKey: 'k' });
    },
  );

  it('refuses a connection given an API key without TLS to another machine, whoever built its settings', async () => {
    const settings = { address: 'temporal.internal:7233', namespace: 'default', tls: undefined, apiKey: 'k' };

    await expect(connectClient(settings)).rejects.toThrow(ConfigError);
    await expect(connectWorker(settings)).rejects.toThrow(/clear text to temporal.internal:7233/);
  });

  it('never puts an API key or PEM data into an error', async () => {
    const failure = await temporalConnectionSettings({
      TEMPORAL_API_KEY: 'secret-key-value',
      TEMPORAL_TLS_KEY_DATA: 'secret-pem-value',
    }).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ConfigError);
    expect((failure as Error).message).not.toMatch(/secret-key-value|secret-pem-value/);
  });

  describe("the config's temporal section", () => {
    const config = (temporal: unknown) => parseConfig({ accounts: {}, temporal }, join(dir, 'leadsync.yaml'));

    it('gives the address, namespace and files (relative to the config), under the environment', async () => {
      const loaded = config({
        address: 'temporal.internal:7233',
        namespace: 'sales',
        tls: { cert: 'client.pem', key: 'client.key', ca: 'ca.pem', serverName: 'temporal.internal' },
      });

      const fromConfig = await temporalConnectionSettings({}, loaded);
      expect(fromConfig).toMatchObject({ address: 'temporal.internal:7233', namespace: 'sales' });
      expect(text(fromConfig.tls?.clientCertPair?.crt)).toBe(CERT);
      expect(fromConfig.tls?.serverNameOverride).toBe('temporal.internal');

      const overridden = await temporalConnectionSettings(
        { TEMPORAL_ADDRESS: 'other:7233', TEMPORAL_TLS_CA_DATA: 'inline-ca' },
        loaded,
      );
      expect(overridden.address).toBe('other:7233');
      expect(text(overridden.tls?.serverRootCACertificate)).toBe('inline-ca');
    });

    it('reads the API key from the variable it names, and fails when that variable is unset', async () => {
      const loaded = config({ address: 'us-east-1.aws.api.temporal.io:7233', apiKeyEnv: 'ACME_TEMPORAL_KEY' });

      expect(await temporalConnectionSettings({ ACME_TEMPORAL_KEY: 'k' }, loaded)).toMatchObject({
        apiKey: 'k',
        tls: {},
      });
      await expect(temporalConnectionSettings({}, loaded)).rejects.toThrow(
        /temporal.apiKeyEnv names ACME_TEMPORAL_KEY, which is not set/,
      );
    });

    it('refuses an API key it names without TLS to another machine, naming its keys', async () => {
      const loaded = config({
        address: 'temporal.internal:7233',
        apiKeyEnv: 'ACME_TEMPORAL_KEY',
        tls: { enabled: false },
      });

      const failure = await temporalConnectionSettings({ ACME_TEMPORAL_KEY: 'k' }, loaded).catch((err: unknown) => err);

      expect(failure).toBeInstanceOf(ConfigError);
      expect((failure as Error).message).toBe(
        `${join(dir, 'leadsync.yaml')}: temporal.apiKeyEnv: the Temporal API key would go in clear text to ` +
          `temporal.internal:7233 (${join(dir, 'leadsync.yaml')}: temporal.address), since TLS is off ` +
          `(${join(dir, 'leadsync.yaml')}: temporal.tls.enabled): turn TLS on, or reach Temporal on localhost`,
      );
    });

    it('refuses an API key written into the config instead of a variable name', () => {
      expect(() => config({ apiKeyEnv: 'tcld-abc.def' })).toThrow(
        /temporal.apiKeyEnv.*name of an environment variable/s,
      );
    });
  });
});
