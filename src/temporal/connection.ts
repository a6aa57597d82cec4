import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Connection, type TLSConfig } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { z } from 'zod';
import { readEnvironment } from '../config/environment.js';
import { ConfigError, formatZodIssues } from '../core/errors.js';
import { isLoopbackHost } from '../core/loopback.js';
import type { TemporalConfig } from '../config/temporal.js';

const blankAsUnset = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);
const optionalText = z.preprocess(blankAsUnset, z.string().trim().optional());
const optionalBool = z.preprocess(
  (value) => (typeof value === 'string' ? (blankAsUnset(value.trim().toLowerCase()) as string | undefined) : value),
  z.enum(['true', 'false', '1', '0'], { message: 'expected true or false' }).optional(),
);
/** PEM text given in a variable itself: kept as given, never trimmed into something else. */
const optionalData = z.preprocess(blankAsUnset, z.string().optional());

/**
 * What the `temporal` CLI (v1.5) reads to reach a secured cluster, by the same names. Each file has a path variable
 * and a *_DATA one holding the PEM itself; the CLI's older short names (TEMPORAL_TLS_CERT, ..._KEY, ..._CA) win
 * over the newer long ones (TEMPORAL_TLS_CLIENT_CERT_PATH, ...), as in the CLI.
 */
export const TemporalTlsEnvironmentSchema = z.object({
  TEMPORAL_TLS: optionalBool,
  TEMPORAL_TLS_CERT: optionalText,
  TEMPORAL_TLS_CERT_DATA: optionalData,
  TEMPORAL_TLS_KEY: optionalText,
  TEMPORAL_TLS_KEY_DATA: optionalData,
  TEMPORAL_TLS_CA: optionalText,
  TEMPORAL_TLS_CA_DATA: optionalData,
  TEMPORAL_TLS_CLIENT_CERT_PATH: optionalText,
  TEMPORAL_TLS_CLIENT_CERT_DATA: optionalData,
  TEMPORAL_TLS_CLIENT_KEY_PATH: optionalText,
  TEMPORAL_TLS_CLIENT_KEY_DATA: optionalData,
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: optionalText,
  TEMPORAL_TLS_SERVER_CA_CERT_DATA: optionalData,
  TEMPORAL_TLS_SERVER_NAME: optionalText,
  TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: optionalBool,
  TEMPORAL_API_KEY: optionalData,
});

/** Everything a connection to Temporal needs; the same for the worker's NativeConnection and a client's Connection. */
export interface TemporalConnectionSettings {
  address: string;
  namespace: string;
  /** Undefined for a plaintext connection. */
  tls: TLSConfig | undefined;
  apiKey: string | undefined;
}

/** One PEM file: from a path (read here) or given in a variable, named for the error that says what to fix. */
interface PemSource {
  path?: { value: string; name: string };
  data?: { value: string; name: string };
}

/**
 * Reads where Temporal is and how to reach it: the environment (as the `temporal` CLI names it), over the config
 * file's `temporal` section. TLS is on when asked for, or when any certificate or an API key is given (as the CLI
 * has it) unless TEMPORAL_TLS=false; a contradiction, a half pair or an unreadable file fails here, naming the
 * variable, before any connection is tried.
 */
export async function temporalConnectionSettings(
  env: NodeJS.ProcessEnv = process.env,
  config: { path: string; temporal?: TemporalConfig } | undefined = undefined,
): Promise<TemporalConnectionSettings> {
  const parsed = TemporalTlsEnvironmentSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(`invalid environment:\n${formatZodIssues(parsed.error)}`);
  const tlsEnv = parsed.data;
  const base = readEnvironment(env);
  const file = config?.temporal;
  const set = (name: string) => blankAsUnset(env[name]) !== undefined;
  const address = set('TEMPORAL_ADDRESS') ? base.TEMPORAL_ADDRESS : (file?.address ?? base.TEMPORAL_ADDRESS);
  const namespace = set('TEMPORAL_NAMESPACE') ? base.TEMPORAL_NAMESPACE : (file?.namespace ?? base.TEMPORAL_NAMESPACE);

  // A config's file paths are relative to the config file, as its rejects directory is.
  const fromConfig = (key: 'cert' | 'key' | 'ca') => {
    const value = file?.tls?.[key];
    return value && config
      ? { value: resolve(config.path, '..', value), name: `${config.path}: temporal.tls.${key}` }
      : undefined;
  };
  const fromEnv = (name: keyof typeof tlsEnv) => {
    const value = tlsEnv[name];
    return value === undefined ? undefined : { value, name };
  };
  const pem = (
    pathNames: (keyof typeof tlsEnv)[],
    dataNames: (keyof typeof tlsEnv)[],
    configKey: 'cert' | 'key' | 'ca',
  ): PemSource => {
    const path = pathNames.map(fromEnv).find(Boolean);
    const data = dataNames.map(fromEnv).find(Boolean);
    if (path || data) return { path, data };
    return { path: fromConfig(configKey) };
  };
  const cert = pem(
    ['TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_CLIENT_CERT_PATH'],
    ['TEMPORAL_TLS_CERT_DATA', 'TEMPORAL_TLS_CLIENT_CERT_DATA'],
    'cert',
  );
  const key = pem(
    ['TEMPORAL_TLS_KEY', 'TEMPORAL_TLS_CLIENT_KEY_PATH'],
    ['TEMPORAL_TLS_KEY_DATA', 'TEMPORAL_TLS_CLIENT_KEY_DATA'],
    'key',
  );
  const ca = pem(
    ['TEMPORAL_TLS_CA', 'TEMPORAL_TLS_SERVER_CA_CERT_PATH'],
    ['TEMPORAL_TLS_CA_DATA', 'TEMPORAL_TLS_SERVER_CA_CERT_DATA'],
    'ca',
  );
  const serverName = tlsEnv.TEMPORAL_TLS_SERVER_NAME ?? file?.tls?.serverName;

  let apiKey = tlsEnv.TEMPORAL_API_KEY;
  if (apiKey === undefined && file?.apiKeyEnv) {
    apiKey = blankAsUnset(env[file.apiKeyEnv]) as string | undefined;
    if (apiKey === undefined) {
      throw new ConfigError(`${config!.path}: temporal.apiKeyEnv names ${file.apiKeyEnv}, which is not set`);
    }
  }

  if (
    tlsEnv.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION === 'true' ||
    tlsEnv.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION === '1'
  ) {
    throw new ConfigError(
      'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: the TypeScript SDK always verifies the server; set ' +
        "TEMPORAL_TLS_SERVER_NAME to the name on the server's certificate instead",
    );
  }
  const explicit = tlsEnv.TEMPORAL_TLS
    ? tlsEnv.TEMPORAL_TLS === 'true' || tlsEnv.TEMPORAL_TLS === '1'
    : file?.tls?.enabled;
  const anyTlsSetting = [cert, key, ca].some((s) => s.path || s.data) || serverName !== undefined;
  if (explicit === false && anyTlsSetting) {
    throw new ConfigError(
      `TEMPORAL_TLS is false but TLS settings are given (${describeTlsSettings(cert, key, ca, serverName)}); ` +
        'remove one or the other',
    );
  }
  const useTls = explicit ?? (anyTlsSetting || apiKey !== undefined);
  if (!useTls) {
    refuseClearTextApiKey(address, undefined, apiKey, () => ({
      apiKey: tlsEnv.TEMPORAL_API_KEY !== undefined ? 'TEMPORAL_API_KEY' : `${config!.path}: temporal.apiKeyEnv`,
      tls: tlsEnv.TEMPORAL_TLS !== undefined ? 'TEMPORAL_TLS' : `${config!.path}: temporal.tls.enabled`,
      address: set('TEMPORAL_ADDRESS') || !file?.address ? 'TEMPORAL_ADDRESS' : `${config!.path}: temporal.address`,
    }));
    return { address, namespace, tls: undefined, apiKey };
  }

  const hasCert = Boolean(cert.path || cert.data);
  if (hasCert !== Boolean(key.path || key.data)) {
    const [given, missing] = hasCert
      ? [cert, 'TEMPORAL_TLS_KEY (or TEMPORAL_TLS_KEY_DATA)']
      : [key, 'TEMPORAL_TLS_CERT'];
    throw new ConfigError(
      `${(given.path ?? given.data)!.name} is set but ${missing} is not: a client certificate needs its key`,
    );
  }
  const [crt, keyPem, caPem] = await Promise.all([readPem(cert), readPem(key), readPem(ca)]);
  const tls: TLSConfig = {
    ...(serverName ? { serverNameOverride: serverName } : {}),
    ...(caPem ? { serverRootCACertificate: caPem } : {}),
    ...(crt && keyPem ? { clientCertPair: { crt, key: keyPem } } : {}),
  };
  return { address, namespace, tls, apiKey };
}

function describeTlsSettings(cert: PemSource, key: PemSource, ca: PemSource, serverName?: string): string {
  const names = [cert, key, ca].flatMap((s) => [s.path?.name, s.data?.name]).filter(Boolean);
  if (serverName) names.push('TEMPORAL_TLS_SERVER_NAME');
  return names.join(', ');
}

async function readPem(source: PemSource): Promise<Buffer | undefined> {
  if (source.path && source.data) {
    throw new ConfigError(`${source.path.name} and ${source.data.name} are both set: give the file or its contents`);
  }
  if (source.data) return Buffer.from(source.data.value);
  if (!source.path) return undefined;
  try {
    return await readFile(source.path.value);
  } catch (err) {
    throw new ConfigError(`${source.path.name}=${source.path.value}: ${(err as NodeJS.ErrnoException).message}`);
  }
}

/** A client connection (for a Client: starting syncs, schedules, the governor's updates). */
export async function connectClient(settings: TemporalConnectionSettings): Promise<Connection> {
  return Connection.connect(connectionOptions(settings));
}

/** The worker's connection. */
export async function connectWorker(settings: TemporalConnectionSettings): Promise<NativeConnection> {
  return NativeConnection.connect(connectionOptions(settings));
}

function connectionOptions(settings: TemporalConnectionSettings) {
  refuseClearTextApiKey(settings.address, settings.tls, settings.apiKey, () => ({
    apiKey: 'apiKey',
    tls: 'tls',
    address: 'address',
  }));
  return {
    address: settings.address,
    tls: settings.tls,
    ...(settings.apiKey !== undefined ? { apiKey: settings.apiKey } : {}),
  };
}

/**
 * An API key goes with every call: without TLS, only to this machine (a dev server, a local proxy). `names` says which
 * settings to change, as the caller knows them.
 */
function refuseClearTextApiKey(
  address: string,
  tls: TLSConfig | undefined,
  apiKey: string | undefined,
  names: () => { apiKey: string; tls: string; address: string },
): void {
  if (apiKey === undefined || tls !== undefined) return;
  if (isLoopbackHost(address.includes(':') ? address.slice(0, address.lastIndexOf(':')) : address)) return;
  const named = names();
  throw new ConfigError(
    `${named.apiKey}: the Temporal API key would go in clear text to ${address} (${named.address}), since TLS is off ` +
      `(${named.tls}): turn TLS on, or reach Temporal on localhost`,
  );
}
