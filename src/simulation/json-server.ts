import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A request with its body read: parsed JSON, `undefined` when empty, or `bodyError` when it is not JSON. */
export interface SimRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: unknown;
  bodyError?: string;
}

/**
 * An answer: JSON unless the body is a string, sent after `delayMs`; or a connection dropped without one. `sent` hears
 * whether the client was still connected to take the answer (one that timed out during a delay was not).
 */
export type SimAnswer =
  | {
      status: number;
      body?: unknown;
      headers?: Record<string, string>;
      delayMs?: number;
      sent?: (delivered: boolean) => void;
    }
  | { drop: true; delayMs?: number };

export type SimHandler = (request: SimRequest) => SimAnswer | Promise<SimAnswer>;

export interface JsonServer {
  /** e.g. http://127.0.0.1:54321 */
  origin: string;
  /** Connections accepted that carried a counted request: a client that keeps its connections makes few. */
  connections(): number;
  close(): Promise<void>;
}

/** Larger bodies are refused unread: no vendor takes more than a few hundred rows a call. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

/**
 * How long an idle connection stays open: longer than a lane's calls are apart (5 s windows at LeadSquared, a minute
 * at most at SmartLead's), as behind a load balancer. 65 s is AWS's advice for servers behind its Application Load
 * Balancer (keep-alive above the balancer's 60-s idle timeout); node:http's default of 5 s would close a LeadSquared
 * lane's connection between two windows. It is not announced (see send()).
 */
export const SIMULATOR_KEEP_ALIVE_MS = 65_000;

/** A tiny JSON server on node:http: every request is read whole, handed over, and answered or dropped. */
export async function startJsonServer(
  handler: SimHandler,
  {
    host,
    port,
    counted = () => true,
  }: {
    host: string;
    port: number;
    /** Which requests' connections `connections()` counts (not a test's own admin requests); all by default. */
    counted?: (url: URL) => boolean;
  },
): Promise<JsonServer> {
  const countedSockets = new WeakSet<Socket>();
  let connections = 0;
  const count = (url: URL, socket: Socket) => {
    if (countedSockets.has(socket) || !counted(url)) return;
    countedSockets.add(socket);
    connections++;
  };
  const server = createServer((req, res) => {
    serve(req, res, handler, count).catch((err: unknown) => {
      if (!res.headersSent) send(res, { status: 500, body: { error: String(err) } });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = SIMULATOR_KEEP_ALIVE_MS;
  // Node's advice: above keepAliveTimeout, so a kept connection's next request is not cut off while its headers arrive.
  server.headersTimeout = SIMULATOR_KEEP_ALIVE_MS + 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    origin: `http://${shownHost}:${address.port}`,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive connections would hold close() open until clients let go.
        server.closeAllConnections();
      }),
  };
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  handler: SimHandler,
  count: (url: URL, socket: Socket) => void,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://simulator');
  count(url, req.socket);
  const read = await readBody(req);
  if (read === 'too-large') {
    send(res, { status: 413, body: { error: `request body over ${MAX_BODY_BYTES} bytes` } });
    return;
  }
  const answer = await handler({ method: req.method ?? 'GET', url, headers: req.headers, ...read });
  if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
  if ('drop' in answer) {
    req.socket.destroy();
    return;
  }
  if (res.destroyed || req.socket.destroyed) {
    answer.sent?.(false);
    return;
  }
  res.once('close', () => answer.sent?.(res.writableFinished));
  send(res, answer);
}

async function readBody(req: IncomingMessage): Promise<{ body: unknown; bodyError?: string } | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return 'too-large';
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return { body: undefined };
  try {
    return { body: JSON.parse(text) as unknown };
  } catch (err) {
    return { body: undefined, bodyError: err instanceof Error ? err.message : String(err) };
  }
}

function send(res: ServerResponse, answer: { status: number; body?: unknown; headers?: Record<string, string> }): void {
  const isText = typeof answer.body === 'string';
  const payload = answer.body === undefined ? '' : isText ? (answer.body as string) : JSON.stringify(answer.body);
  res.writeHead(answer.status, {
    // Set explicitly, node:http leaves out its `Keep-Alive: timeout=65` hint: a client cannot count on a vendor to
    // announce its timeout, so the simulator does not either, and a client keeps a connection as long as it would
    // against a vendor that does not (fetch: 4 s).
    connection: 'keep-alive',
    'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(payload)),
    ...answer.headers,
  });
  res.end(payload);
}
