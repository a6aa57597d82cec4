import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { ensureTemporalCli } from './cli-build.js';
import { startLogged } from './logged-process.js';
import { CLI_SEARCH_ATTRIBUTE_TYPES, type SearchAttributeKey } from '../../src/core/search-attributes.js';

type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface DevServerOptions {
  /** The `temporal` binary; found or built by ensureTemporalCli when absent. */
  cliPath?: string;
  /** Interface to bind; loopback unless told, since the dev server has no auth. */
  ip?: string;
  /** gRPC frontend port; a free one when absent. */
  port?: number;
  uiPort?: number;
  httpPort?: number;
  metricsPort?: number;
  /** No Web UI. */
  headless?: boolean;
  /** Persist state in `<dataDir>/temporal.sqlite`; in memory when absent. */
  dataDir?: string;
  namespace?: string;
  searchAttributes?: readonly SearchAttributeKey[];
  /**
   * `--dynamic-config-value` settings, values as JSON. None by default: tests and benchmarks run on the server's own
   * defaults (4 task-queue partitions), as users' clusters and Temporal Cloud do.
   */
  dynamicConfig?: Record<string, JsonValue>;
  /** Where the server writes its log; `<dataDir>/temporal.log`, or a temporary directory removed on stop. */
  logFile?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** How long to wait for the frontend (and UI) to answer. */
  startTimeoutMs?: number;
}

export interface TemporalEndpoint {
  /** host:port of the gRPC frontend. */
  address: string;
  namespace: string;
  /** The Web UI, when there is one leadsync knows of. */
  uiUrl: string | undefined;
  /** Stops what was started; a no-op for an existing cluster. */
  stop(): Promise<void>;
}

export interface DevServer extends TemporalEndpoint {
  pid: number;
  /** The server's Prometheus endpoint: its `action` counter is what Temporal Cloud would bill. */
  metricsUrl: string;
  logFile: string;
  cliPath: string;
}

const START_ATTEMPTS = 3;

/** Starts `temporal server start-dev` and resolves once its frontend, namespace and UI answer. */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const cliPath = options.cliPath ?? (await ensureTemporalCli()).path;
  const portsChosen = options.port !== undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(cliPath, options);
    } catch (err) {
      // Free ports are found by binding and releasing them, so another process can take one in between.
      if (portsChosen || attempt >= START_ATTEMPTS || !(err instanceof PortInUseError)) throw err;
    }
  }
}

/**
 * An existing cluster named by TEMPORAL_ADDRESS (and TEMPORAL_NAMESPACE), as `temporal` and the SDK read them;
 * undefined when unset, so the caller starts a dev server instead.
 */
export function existingTemporalCluster(env: NodeJS.ProcessEnv = process.env): TemporalEndpoint | undefined {
  const address = env.TEMPORAL_ADDRESS?.trim();
  if (!address) return undefined;
  return {
    address,
    namespace: env.TEMPORAL_NAMESPACE?.trim() || 'default',
    uiUrl: env.TEMPORAL_UI_URL?.trim() || undefined,
    stop: () => Promise.resolve(),
  };
}

/** The cluster TEMPORAL_ADDRESS names, else a fresh dev server. */
export async function existingClusterOrDevServer(options: DevServerOptions = {}): Promise<TemporalEndpoint> {
  return existingTemporalCluster() ?? (await startDevServer(options));
}

class PortInUseError extends Error {
  override name = 'PortInUseError';
}

async function startOnce(cliPath: string, options: DevServerOptions): Promise<DevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const namespace = options.namespace ?? 'default';
  const headless = options.headless ?? false;
  const free = await freePorts(ip, 4);
  const port = options.port ?? free[0]!;
  const uiPort = options.uiPort ?? free[1]!;
  const httpPort = options.httpPort ?? free[2]!;
  const metricsPort = options.metricsPort ?? free[3]!;

  let ownedTempDir: string | undefined;
  let logFile = options.logFile;
  if (!logFile) {
    if (options.dataDir) {
      logFile = join(options.dataDir, 'temporal.log');
    } else {
      ownedTempDir = await mkdtemp(join(tmpdir(), 'leadsync-temporal-'));
      logFile = join(ownedTempDir, 'temporal.log');
    }
  }
  logFile = resolve(logFile);
  await mkdir(dirname(logFile), { recursive: true });

  const args = ['server', 'start-dev', '--ip', ip, '--port', String(port), '--http-port', String(httpPort)];
  args.push('--metrics-port', String(metricsPort), '--namespace', namespace);
  args.push('--log-level', options.logLevel ?? 'warn', '--log-format', 'json', '--color', 'never');
  if (headless) args.push('--headless');
  else args.push('--ui-port', String(uiPort));
  if (options.dataDir) {
    await mkdir(options.dataDir, { recursive: true });
    args.push('--db-filename', resolve(options.dataDir, 'temporal.sqlite'));
  }
  for (const key of options.searchAttributes ?? []) {
    args.push('--search-attribute', `${key.name}=${CLI_SEARCH_ATTRIBUTE_TYPES[key.type]}`);
  }
  for (const [key, value] of Object.entries(options.dynamicConfig ?? {})) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }

  const server = startLogged(cliPath, args, logFile, 10_000);
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      await server.stop();
      if (ownedTempDir) await rm(ownedTempDir, { recursive: true, force: true });
    })());

  const address = `${formatHost(ip)}:${port}`;
  const uiUrl = headless ? undefined : `http://${formatHost(ip)}:${uiPort}`;
  try {
    await waitUntilReady(address, namespace, uiUrl, options.startTimeoutMs ?? 60_000, logFile, server.exited);
  } catch (err) {
    // Keep the log of a failed start: it is the explanation.
    ownedTempDir = undefined;
    await stop();
    throw err;
  }
  const metricsUrl = `http://${formatHost(ip)}:${metricsPort}/metrics`;
  return { address, namespace, uiUrl, pid: server.child.pid!, metricsUrl, logFile, cliPath, stop };
}

async function waitUntilReady(
  address: string,
  namespace: string,
  uiUrl: string | undefined,
  timeoutMs: number,
  logFile: string,
  exited: Promise<string>,
): Promise<void> {
  let exitedHow: string | undefined;
  void exited.then((how) => (exitedHow = how));
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline && exitedHow === undefined) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2_000 });
      try {
        await connection.workflowService.getSystemInfo({});
        // The frontend can answer before the namespace is registered.
        await connection.workflowService.describeNamespace({ namespace });
      } finally {
        await connection.close();
      }
      if (uiUrl) {
        const response = await fetch(uiUrl, { signal: AbortSignal.timeout(2_000) });
        await response.arrayBuffer();
        if (!response.ok) throw new Error(`Web UI answered HTTP ${response.status}`);
      }
      return;
    } catch (err) {
      lastError = err;
      await sleep(200);
    }
  }
  const tail = await logTail(logFile);
  if (exitedHow !== undefined) {
    const message = `temporal server start-dev exited during start-up (${exitedHow}); log ${logFile}:\n${tail}`;
    // The bind error comes first; a panic's stack trace can push it out of the tail.
    const log = await readFile(logFile, 'utf8').catch(() => tail);
    throw /address already in use/i.test(log) ? new PortInUseError(message) : new Error(message);
  }
  const last = lastError instanceof Error ? lastError.message : String(lastError);
  throw new Error(
    `temporal server start-dev did not answer at ${address} within ${timeoutMs} ms (last error: ${last}); ` +
      `log ${logFile}:\n${tail}`,
  );
}

export async function freePorts(host: string, count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolveServer, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, host, () => resolveServer(server));
        }),
    ),
  );
  const ports = servers.map((server) => {
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('could not read a free port');
    return address.port;
  });
  await Promise.all(servers.map((server) => new Promise((done) => server.close(done))));
  return ports;
}

export function formatHost(ip: string): string {
  return ip.includes(':') ? `[${ip}]` : ip;
}

export async function logTail(logFile: string, lines = 20): Promise<string> {
  const text = await readFile(logFile, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n') || '(empty)';
}
