import { createServer, type Server } from 'node:net';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection, type TLSConfig } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import pg from 'pg';
import { stringify as toYaml } from 'yaml';
import { formatHost, logTail, type TemporalEndpoint } from './dev-server.js';
import { run } from './go-build.js';
import { startLogged, type LoggedProcess } from './logged-process.js';
import { ensureSearchAttributes } from './operator.js';
import type { SearchAttributeKey } from '../../src/core/search-attributes.js';
import { PACKAGE_ROOT } from '../code-tree.js';
import { ensureTemporalServer, ensureTemporalUiServer, type TemporalServerTools } from './server-build.js';

/**
 * The cluster's dynamic config, shared with docker-compose.yml's server. Task queues keep the server's default
 * partitions (four), as users' clusters and Temporal Cloud run them.
 */
export const CLUSTER_DYNAMIC_CONFIG = join(PACKAGE_ROOT, 'deploy/temporal/dynamicconfig.yaml');

/** The local cluster's history database (`npm run cluster`, docker-compose.yml); visibility is `<it>_visibility`. */
export const CLUSTER_DATABASE = 'leadsync_temporal';

/** What auto-setup and the server's sample configs use: shards are fixed when the database is first set up. */
export const HISTORY_SHARDS = 4;
const SERVICES = ['frontend', 'history', 'matching', 'worker'] as const;

export interface ClusterPostgres {
  host: string;
  port: number;
  user: string;
  password?: string;
  /** The history database; visibility goes to `<database>_visibility`. */
  database: string;
}

/** The machine's PostgreSQL with trust auth, as the tests use it; PGUSER names the role. */
export function localClusterPostgres(database: string, env: NodeJS.ProcessEnv = process.env): ClusterPostgres {
  return { host: '127.0.0.1', port: 5432, user: env.PGUSER?.trim() || 'postgres', database };
}

/** PEM files of the frontend's TLS. */
export interface ClusterTls {
  /** The frontend's certificate and key; the server's own services present them as a client certificate too. */
  certFile: string;
  keyFile: string;
  /** The CA that signed the server's certificate and the clients' certificates it accepts. */
  caFile: string;
  /** The name on the server's certificate, which the server's own clients check. */
  serverName: string;
  /** Mutual TLS: refuse a client without a certificate the CA signed. */
  requireClientAuth: boolean;
}

export interface TemporalClusterOptions {
  postgres: ClusterPostgres;
  /** Holds the server's and the UI's config files and logs. */
  runDir: string;
  tools?: TemporalServerTools;
  /** The UI server binary; built when absent. No Web UI with `headless`. */
  uiServerPath?: string;
  headless?: boolean;
  ip?: string;
  /** gRPC frontend port; a free one when absent. */
  port?: number;
  uiPort?: number;
  namespace?: string;
  searchAttributes?: readonly SearchAttributeKey[];
  tls?: ClusterTls;
  dynamicConfigFile?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  startTimeoutMs?: number;
}

export interface TemporalCluster extends TemporalEndpoint {
  /** The frontend's TLS as a client of it needs it (the server's own certificate as client certificate). */
  tls: TLSConfig | undefined;
  logFile: string;
  /** Stops the server and starts it again on the same database and ports; the Web UI stays up. */
  restart(): Promise<void>;
}

/**
 * Creates the cluster's two databases (when missing) and brings their schemas to the server's version with the
 * server's own SQL tool: `create-database`, `setup-schema -v 0.0` on a new database, then `update-schema` from the
 * versioned migrations, which is a no-op on a database already at the latest version.
 */
export async function setUpClusterDatabases(tools: TemporalServerTools, postgres: ClusterPostgres): Promise<void> {
  for (const [database, schema] of clusterDatabases(postgres)) {
    const base = ['--plugin', 'postgres12', '--ep', postgres.host, '-p', String(postgres.port), '-u', postgres.user];
    if (postgres.password) base.push('--pw', postgres.password);
    base.push('--db', database);
    const env = { ...process.env };
    const state = await databaseState(postgres, database);
    if (state === 'missing') await run(tools.sqlTool, [...base, 'create-database'], env, 'quiet');
    if (state !== 'versioned') await run(tools.sqlTool, [...base, 'setup-schema', '-v', '0.0'], env, 'quiet');
    await run(
      tools.sqlTool,
      [...base, 'update-schema', '-d', join(tools.postgresSchema, schema, 'versioned')],
      env,
      'quiet',
    );
  }
}

/** Drops the cluster's databases: for throwaway clusters, once their server has stopped. */
export async function dropClusterDatabases(postgres: ClusterPostgres): Promise<void> {
  await withAdmin(postgres, async (admin) => {
    for (const [database] of clusterDatabases(postgres)) {
      await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(database)} WITH (FORCE)`);
    }
  });
}

function clusterDatabases(postgres: ClusterPostgres): [database: string, schema: 'temporal' | 'visibility'][] {
  return [
    [postgres.database, 'temporal'],
    [`${postgres.database}_visibility`, 'visibility'],
  ];
}

async function databaseState(postgres: ClusterPostgres, database: string): Promise<'missing' | 'empty' | 'versioned'> {
  const exists = await withAdmin(postgres, async (admin) => {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    return found.rowCount === 1;
  });
  if (!exists) return 'missing';
  const client = new pg.Client({ ...connectionConfig(postgres), database });
  await client.connect();
  try {
    const versioned = await client.query("SELECT to_regclass('public.schema_version') IS NOT NULL AS versioned");
    return (versioned.rows[0] as { versioned: boolean }).versioned ? 'versioned' : 'empty';
  } finally {
    await client.end();
  }
}

async function withAdmin<T>(postgres: ClusterPostgres, work: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ ...connectionConfig(postgres), database: 'postgres' });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}

function connectionConfig(postgres: ClusterPostgres): pg.ClientConfig {
  return { host: postgres.host, port: postgres.port, user: postgres.user, password: postgres.password };
}

/**
 * Starts a Temporal server (frontend, history, matching and worker services in one process) on PostgreSQL, and its
 * Web UI unless headless: builds the tools on first use, sets up the databases, registers the namespace and
 * leadsync's search attributes, and resolves once a client can use the namespace.
 */
export async function startTemporalCluster(options: TemporalClusterOptions): Promise<TemporalCluster> {
  const tools = options.tools ?? (await ensureTemporalServer());
  const uiServerPath = options.headless ? undefined : (options.uiServerPath ?? (await ensureTemporalUiServer()));
  await setUpClusterDatabases(tools, options.postgres);

  const ip = options.ip ?? '127.0.0.1';
  const namespace = options.namespace ?? 'default';
  const runDir = resolve(options.runDir);
  const free = await freeMembershipSafePorts(ip, 2 + SERVICES.length * 2 + 1);
  const port = options.port ?? free[0]!;
  const uiPort = options.uiPort ?? free[1]!;
  const servicePorts = free.slice(2);
  const address = `${formatHost(ip)}:${port}`;
  const serverConfigDir = join(runDir, 'config');
  await mkdir(serverConfigDir, { recursive: true });
  await writeFile(
    join(serverConfigDir, 'leadsync.yaml'),
    toYaml(serverConfig({ ...options, ip, port, servicePorts, runDir })),
  );
  const tls = options.tls && (await clientTls(options.tls));
  const logFile = join(runDir, 'temporal-server.log');
  const startServer = () =>
    startLogged(tools.server, ['--root', runDir, '--config', 'config', '--env', 'leadsync', 'start'], logFile);

  let server = startServer();
  let ui: LoggedProcess | undefined;
  const stop = async () => {
    await ui?.stop();
    await server.stop();
  };
  try {
    const timeoutMs = options.startTimeoutMs ?? 120_000;
    await waitForNamespace({ address, namespace, tls, timeoutMs, logFile, process: server, register: true });
    if (options.searchAttributes?.length) {
      const connection = await Connection.connect({ address, tls });
      try {
        await ensureSearchAttributes(connection, namespace, options.searchAttributes);
      } finally {
        await connection.close();
      }
    }
    if (uiServerPath) {
      const uiDir = join(runDir, 'ui');
      await mkdir(join(uiDir, 'config'), { recursive: true });
      await writeFile(
        join(uiDir, 'config', 'leadsync.yaml'),
        toYaml(uiConfig(ip, uiPort, address, namespace, options.tls)),
      );
      const uiLog = join(runDir, 'temporal-ui.log');
      const started = startLogged(
        uiServerPath,
        ['--root', uiDir, '--config', 'config', '--env', 'leadsync', 'start'],
        uiLog,
      );
      ui = started;
      await waitForUi(`http://${formatHost(ip)}:${uiPort}`, timeoutMs, uiLog, started);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    address,
    namespace,
    uiUrl: ui ? `http://${formatHost(ip)}:${uiPort}` : undefined,
    tls,
    logFile,
    stop,
    async restart() {
      await server.stop();
      server = startServer();
      await waitForNamespace({
        address,
        namespace,
        tls,
        timeoutMs: options.startTimeoutMs ?? 120_000,
        logFile,
        process: server,
        register: false,
      });
    },
  };
}

interface ServerConfigInput extends TemporalClusterOptions {
  ip: string;
  port: number;
  servicePorts: number[];
  runDir: string;
}

/** The server's config file: the shape of the server's own config/development-postgres12.yaml, on our ports. */
function serverConfig(input: ServerConfigInput): Record<string, unknown> {
  const { postgres, ip, port, tls } = input;
  // Every service of the one server process opens its own pools, so a store's connections count four times: kept small,
  // two clusters and the tests' own pools fit in PostgreSQL's default of 100 connections.
  const datastore = (database: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName: database,
      connectAddr: `${postgres.host}:${postgres.port}`,
      connectProtocol: 'tcp',
      user: postgres.user,
      password: postgres.password ?? '',
      maxConns,
      maxIdleConns: Math.min(2, maxConns),
      maxConnLifetime: '1h',
    },
  });
  // Every service listens for gRPC and for membership; the frontend's gRPC port is the cluster's address.
  const ports = [...input.servicePorts];
  const take = () => ports.shift()!;
  const services = Object.fromEntries(
    SERVICES.map((name) => {
      const rpc =
        name === 'frontend'
          ? { grpcPort: port, membershipPort: take(), httpPort: take() }
          : { grpcPort: take(), membershipPort: take() };
      return [name, { rpc: { ...rpc, bindOnIP: ip } }];
    }),
  );
  const client = tls && { serverName: tls.serverName, rootCaFiles: [tls.caFile] };
  return {
    log: { stdout: true, level: input.logLevel ?? 'warn', format: 'json' },
    persistence: {
      defaultStore: 'default',
      visibilityStore: 'visibility',
      numHistoryShards: HISTORY_SHARDS,
      datastores: {
        default: datastore(postgres.database, 6),
        visibility: datastore(`${postgres.database}_visibility`, 2),
      },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: ip },
      ...(tls
        ? {
            tls: {
              frontend: {
                server: {
                  certFile: tls.certFile,
                  keyFile: tls.keyFile,
                  clientCaFiles: [tls.caFile],
                  requireClientAuth: tls.requireClientAuth,
                },
                client,
              },
              // The worker service's (and other services') calls to the frontend: they must pass its mutual TLS too.
              systemWorker: { certFile: tls.certFile, keyFile: tls.keyFile, client },
            },
          }
        : {}),
    },
    services,
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: {
          enabled: true,
          initialFailoverVersion: 1,
          rpcName: 'frontend',
          rpcAddress: `${formatHost(ip)}:${port}`,
        },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } },
    namespaceDefaults: { archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } } },
    dynamicConfigClient: { filepath: resolve(input.dynamicConfigFile ?? CLUSTER_DYNAMIC_CONFIG), pollInterval: '10s' },
  };
}

/** The UI server's config (the shape of ui-server's config/development.yaml). */
function uiConfig(
  ip: string,
  port: number,
  address: string,
  namespace: string,
  tls: ClusterTls | undefined,
): Record<string, unknown> {
  return {
    temporalGrpcAddress: address,
    host: ip,
    port,
    enableUi: true,
    defaultNamespace: namespace,
    notifyOnNewVersion: false,
    cors: { allowOrigins: [], unsafeAllowAllOrigins: false, cookieInsecure: true },
    ...(tls
      ? {
          tls: {
            caFile: tls.caFile,
            certFile: tls.certFile,
            keyFile: tls.keyFile,
            serverName: tls.serverName,
            enableHostVerification: true,
          },
        }
      : {}),
  };
}

async function clientTls(tls: ClusterTls): Promise<TLSConfig> {
  return {
    serverNameOverride: tls.serverName,
    serverRootCACertificate: await readFile(tls.caFile),
    clientCertPair: { crt: await readFile(tls.certFile), key: await readFile(tls.keyFile) },
  };
}

interface NamespaceWait {
  address: string;
  namespace: string;
  tls: TLSConfig | undefined;
  timeoutMs: number;
  logFile: string;
  process: LoggedProcess;
  /** Register the namespace when the server does not know it (a new database). */
  register: boolean;
}

/**
 * Waits until a client can use the namespace: the frontend answers, the namespace is registered (by us on a new
 * database), and the frontend's namespace cache has it, which is refreshed every few seconds after registration.
 */
async function waitForNamespace(wait: NamespaceWait): Promise<void> {
  let exitedHow: string | undefined;
  void wait.process.exited.then((how) => (exitedHow = how));
  const deadline = Date.now() + wait.timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline && exitedHow === undefined) {
    try {
      const connection = await Connection.connect({ address: wait.address, tls: wait.tls, connectTimeout: 2_000 });
      try {
        const service = connection.workflowService;
        if (wait.register) {
          await service
            .registerNamespace({
              namespace: wait.namespace,
              workflowExecutionRetentionPeriod: msToTs('1 day'),
            })
            .catch((err: unknown) => {
              // Registered already: by an earlier attempt, or the database is an old one.
              if ((err as { code?: number }).code !== ALREADY_EXISTS) throw err;
            });
        }
        await service.countWorkflowExecutions({ namespace: wait.namespace, query: '' });
      } finally {
        await connection.close();
      }
      return;
    } catch (err) {
      lastError = err;
      await sleep(250);
    }
  }
  const tail = await logTail(wait.logFile);
  if (exitedHow !== undefined) {
    throw new Error(`the Temporal server exited during start-up (${exitedHow}); log ${wait.logFile}:\n${tail}`);
  }
  const last = lastError instanceof Error ? lastError.message : String(lastError);
  throw new Error(
    `the Temporal server did not serve namespace ${wait.namespace} at ${wait.address} within ${wait.timeoutMs} ms ` +
      `(last error: ${last}); log ${wait.logFile}:\n${tail}`,
  );
}

/** gRPC's ALREADY_EXISTS status. */
const ALREADY_EXISTS = 6;

async function waitForUi(url: string, timeoutMs: number, logFile: string, ui: LoggedProcess): Promise<void> {
  let exitedHow: string | undefined;
  void ui.exited.then((how) => (exitedHow = how));
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline && exitedHow === undefined) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (response.ok) return;
      last = `HTTP ${response.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(200);
  }
  throw new Error(
    `the Temporal UI server did not answer at ${url} (${exitedHow ?? last}); log ${logFile}:\n${await logTail(logFile)}`,
  );
}

/**
 * Free ports below 32768: the server records each service's ports in its cluster_membership table, whose port column
 * is a PostgreSQL smallint, so the ephemeral ports the OS hands out (32768 and up on Linux) fail its start-up.
 */
async function freeMembershipSafePorts(host: string, count: number): Promise<number[]> {
  const held: Server[] = [];
  const ports: number[] = [];
  try {
    for (let tries = 0; ports.length < count; tries++) {
      if (tries > count * 50) throw new Error(`no ${count} free ports between 20000 and 32767 on ${host}`);
      const candidate = 20_000 + Math.floor(Math.random() * 12_768);
      if (ports.includes(candidate)) continue;
      const server = createServer();
      const bound = await new Promise<boolean>((done) => {
        server.once('error', () => done(false));
        server.listen(candidate, host, () => done(true));
      });
      if (!bound) continue;
      held.push(server);
      ports.push(candidate);
    }
    return ports;
  } finally {
    await Promise.all(held.map((server) => new Promise((done) => server.close(done))));
  }
}
