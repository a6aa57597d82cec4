import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { ConfigError } from '../../src/core/errors.js';
import { leadSquared } from '../../src/vendors/leadsquared/index.js';
import { PAYLOAD_KEY_ENV, payloadCodecFromEnv } from '../../src/temporal/codec.js';
import { CODEC_TOKEN_ENV, startCodecServer } from '../../src/temporal/codec-server.js';
import { failure } from '../helpers/failure.js';
import { REPO_ROOT, type Ran } from '../helpers/run-cli.js';

const ACCESS_KEY = 'clear-text-access-key-1234';
const SECRET_KEY = 'clear-text-secret-key-5678';
const PAYLOAD_KEY = randomBytes(32).toString('base64');

/** This machine's address on a real network interface: what a vendor or Temporal on another machine would be. */
const networkAddress = Object.values(networkInterfaces())
  .flat()
  .find((address) => address && !address.internal && address.family === 'IPv4')?.address;

/**
 * `leadsync <args>` with only the environment given (and PATH), so nothing of the test's own leaks in. Killed after
 * 30 s, inside the test's own timeout: a server that started after all must not outlive the test.
 */
function leadsync(args: string[], env: Record<string, string>): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { cwd: REPO_ROOT, env: { PATH: process.env.PATH, ...env }, timeout: 30_000, killSignal: 'SIGKILL' },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }),
    );
  });
}

async function configFile(config: unknown): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), 'leadsync-clear-text-')), 'leadsync.yaml');
  await writeFile(path, toYaml(config));
  return path;
}

const account = (baseUrl: string) => ({
  vendor: 'leadsquared',
  plan: 'enterprise',
  baseUrl,
  credentials: { accessKeyEnv: 'ACME_ACCESS', secretKeyEnv: 'ACME_SECRET' },
});

describe.skipIf(networkAddress === undefined)('a vendor on another machine over plain http', () => {
  const reached: IncomingHttpHeaders[] = [];
  let vendor: Server;
  let baseUrl: string;

  beforeAll(async () => {
    vendor = createServer((request, response) => {
      reached.push(request.headers);
      response.writeHead(200, { 'content-type': 'application/json' }).end('[]');
    });
    vendor.listen(0, networkAddress);
    await once(vendor, 'listening');
    baseUrl = `http://${networkAddress}:${(vendor.address() as AddressInfo).port}/v2/`;
  });

  afterAll(async () => {
    await new Promise((resolve) => vendor.close(resolve));
  });

  it('is never sent the keys, by a client built without a config either', async () => {
    const client = leadSquared.connect(
      { name: 'acme', vendor: 'leadsquared', baseUrl },
      { accessKey: ACCESS_KEY, secretKey: SECRET_KEY },
      { timeoutMs: 2_000 },
    );

    const err = await failure(client.verify({}));

    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain(`LeadSquared account 'acme': GET http://${networkAddress}:`);
    expect(err.message).toContain('refused to send the keys over plain http://');
    expect(reached).toEqual([]);
  });

  it('stops the worker at load, exit 2, naming the account key', async () => {
    const config = await configFile({ accounts: { acme: account(baseUrl) } });

    const ran = await leadsync(['worker', '--config', config], { ACME_ACCESS: ACCESS_KEY, ACME_SECRET: SECRET_KEY });

    expect(ran.code).toBe(2);
    expect(ran.stderr).toMatch(/accounts\.acme\.baseUrl: must be https:\/\/ \(http:\/\/ only to localhost/);
    expect(reached).toEqual([]);
  });
});

describe('a Temporal API key without TLS', () => {
  it('stops the worker at load, exit 2, naming the settings, when Temporal is on another machine', async () => {
    const config = await configFile({
      accounts: { acme: account('https://api.leadsquared.com/v2/') },
      temporal: { address: 'temporal.internal:7233', apiKeyEnv: 'ACME_TEMPORAL_KEY', tls: { enabled: false } },
    });

    const ran = await leadsync(['worker', '--config', config], {
      ACME_ACCESS: ACCESS_KEY,
      ACME_SECRET: SECRET_KEY,
      ACME_TEMPORAL_KEY: 'temporal-cloud-key-9876',
    });

    expect(ran.code).toBe(2);
    expect(ran.stderr).toContain(`${config}: temporal.apiKeyEnv: the Temporal API key would go in clear text`);
    expect(ran.stderr).toContain(`(${config}: temporal.tls.enabled)`);
    expect(ran.stderr).not.toContain('temporal-cloud-key-9876');
  });
});

describe('the codec server without a token', () => {
  const codec = payloadCodecFromEnv({ [PAYLOAD_KEY_ENV]: PAYLOAD_KEY })!;

  it.each(['0.0.0.0', '::', ...(networkAddress ? [networkAddress] : [])])(
    'refuses to bind %s, naming the setting, and opens no port',
    async (host) => {
      const port = await freePort();

      const err = await failure(startCodecServer({ codec, origins: ['http://localhost:8233'], host, port }));

      expect(err).toBeInstanceOf(ConfigError);
      expect(err.message).toBe(
        `codec-server: --host ${host} is not a loopback address, and without a token whoever reaches it can ` +
          `decrypt every payload: set ${CODEC_TOKEN_ENV} to a bearer token, or bind 127.0.0.1`,
      );
      expect(await accepts(port)).toBe(false);
    },
  );

  it('binds another address with a token, and loopback without one', async () => {
    const open = await startCodecServer({ codec, origins: [], host: '0.0.0.0', token: 'a-token-of-16-chars-or-more' });
    const local = await startCodecServer({ codec, origins: [], host: '::1' });

    expect(open.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
    expect(local.url).toMatch(/^http:\/\/\[::1\]:\d+$/);
    await Promise.all([open.close(), local.close()]);
  });

  it('stops `leadsync codec-server --host 0.0.0.0` with exit 2, naming the setting', async () => {
    const ran = await leadsync(['codec-server', '--host', '0.0.0.0', '--port', '0'], {
      [PAYLOAD_KEY_ENV]: PAYLOAD_KEY,
    });

    expect(ran.code).toBe(2);
    expect(ran.stderr).toContain(`--host 0.0.0.0 is not a loopback address`);
    expect(ran.stderr).toContain(CODEC_TOKEN_ENV);
  });
});

async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Whether anything on this machine accepts a connection on `port`. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
