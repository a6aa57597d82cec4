import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/accounts.js';
import { isLoopbackHost } from '../../src/core/loopback.js';

function configWith(baseUrl: string, postgres: Record<string, unknown> = {}, more: Record<string, unknown> = {}) {
  return () =>
    parseConfig(
      {
        accounts: {
          acme: {
            vendor: 'leadsquared',
            plan: 'pro',
            baseUrl,
            ...more,
            credentials: { accessKeyEnv: 'ACME_ACCESS', secretKeyEnv: 'ACME_SECRET' },
          },
        },
        sources: { postgres },
      },
      '/etc/leadsync.yaml',
    );
}

describe('vendor baseUrl', () => {
  it.each(['http://api-us11.leadsquared.com/v2/', 'http://10.0.0.5:8090/v2/', 'http://leadsquared-simulator:8090/v2/'])(
    'refuses plain http to another machine (%s), naming the key',
    (baseUrl) => {
      expect(configWith(baseUrl)).toThrow(/accounts\.acme\.baseUrl: must be https:\/\//);
    },
  );

  it.each([
    'https://api-us11.leadsquared.com/v2/',
    'http://127.0.0.1:8090/v2/',
    'http://127.5.6.7/v2/',
    'http://localhost:8090/v2/',
    'http://[::1]:8090/v2/',
  ])('accepts https anywhere and http on loopback (%s)', (baseUrl) => {
    expect(configWith(baseUrl)().accounts.acme?.baseUrl).toBe(baseUrl);
  });

  it('has no setting that sends the keys over plain http to another machine', () => {
    const simulator = 'http://leadsquared-simulator:8090/v2/';
    expect(configWith(simulator, {}, { allowPlainHttp: true })).toThrow(
      /accounts\.acme: Unrecognized key: "allowPlainHttp"/,
    );
  });

  it('takes loopback names only, not look-alikes', () => {
    expect(['localhost', '127.0.0.1', '[::1]', 'LOCALHOST.'].map(isLoopbackHost)).toEqual([true, true, true, true]);
    expect(['localhost.evil.test', '127.0.0.1.nip.io', '128.0.0.1', '[::2]'].map(isLoopbackHost)).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });

  it('reads a bind address in any spelling: loopback only for this machine', () => {
    expect(['::1', '0:0:0:0:0:0:0:1', '127.1', '127.0.0.2', 'localhost'].map(isLoopbackHost)).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(['0.0.0.0', '::', '192.0.2.2', 'fd00::2', '::ffff:10.0.0.1', ''].map(isLoopbackHost)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
  });
});

describe('the largest vendor answer read', () => {
  it('is 8 MiB unless the account says otherwise', () => {
    expect(configWith('https://api.leadsquared.com/v2/')().accounts.acme?.maxAnswerBytes).toBe(8 * 1024 * 1024);
    expect(
      configWith('https://api.leadsquared.com/v2/', {}, { maxAnswerBytes: 32 * 1024 * 1024 })().accounts.acme
        ?.maxAnswerBytes,
    ).toBe(32 * 1024 * 1024);
  });

  it.each([0, 1024, 1024 ** 3, 1.5])('refuses %s bytes, naming the key', (maxAnswerBytes) => {
    expect(configWith('https://api.leadsquared.com/v2/', {}, { maxAnswerBytes })).toThrow(
      /accounts\.acme\.maxAnswerBytes: /,
    );
  });
});

describe('a PostgreSQL URL written in the config', () => {
  it.each([
    ['in the userinfo', 'postgres://sync:hunter22@db.internal/crm'],
    ['in the query string', 'postgres://sync@db.internal/crm?password=hunter22'],
    ['as an SSL key password', 'postgresql://db.internal/crm?sslmode=verify-full&sslpassword=hunter22'],
  ])('is refused when it holds a password %s, without echoing it', (_where, url) => {
    const parse = configWith('https://api.leadsquared.com/v2/', { crm: { url } });
    expect(parse).toThrow(/sources\.postgres\.crm(\.url)?: .*holds a password/s);
    expect(parse).not.toThrow(/hunter22/);
  });

  it('is accepted without one', () => {
    const parse = configWith('https://api.leadsquared.com/v2/', { crm: { url: 'postgres://sync@db.internal/crm' } });
    expect(parse().postgresConnections.crm).toEqual({
      url: 'postgres://sync@db.internal/crm',
      tables: [],
      lookBackSeconds: 60,
    });
  });
});
