import { createHash, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { isLoopbackHost } from '../core/loopback.js';
import { JsonPayloadSchema, fromJsonPayload, toJsonPayload } from './codec.js';

/** The bearer token the codec server asks for; unset, it asks for none, and then binds only a loopback address. */
export const CODEC_TOKEN_ENV = 'LEADSYNC_CODEC_TOKEN';

/** The names a Host header may carry for a server on this machine, whatever its port. */
export const LOOPBACK_HOST_NAMES: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];
/** Far above a page of history (the server caps a payload at 2 MiB), far below what would strain the process. */
export const DEFAULT_CODEC_BODY_LIMIT = 4 * 1024 * 1024;

const CodecRequestSchema = z.object({ payloads: z.array(JsonPayloadSchema) });

export interface CodecServerOptions {
  codec: PayloadCodec;
  port?: number;
  host?: string;
  /** Origins allowed to call from a browser: the Temporal Web UI's. */
  origins: readonly string[];
  /**
   * Every /encode and /decode must carry `Authorization: Bearer <token>` (the Temporal CLI's `--codec-auth`). Unset,
   * anyone who reaches the port and passes the Host and Origin checks can decrypt: the server then refuses to bind
   * anything but a loopback address.
   */
  token?: string;
  /**
   * Host header names (or host:port) accepted, so a DNS-rebinding page (its own name, resolved to this machine)
   * cannot use the endpoint; LOOPBACK_HOST_NAMES by default.
   */
  allowedHosts?: readonly string[];
  /** Serve /encode too: whoever can call it can make payloads the workers trust. Decode only by default. */
  allowEncode?: boolean;
  /** Request bodies above this many bytes are refused with 413 before they are read whole. */
  maxBodyBytes?: number;
}

export interface RunningCodecServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Temporal's remote codec endpoint: POST `/decode` (and `/encode` when allowed) with `{payloads: [...]}` in the
 * protocol's JSON form, so the Web UI (and `temporal workflow show --codec-endpoint`) can show what the payloads
 * say. Each request passes, in order: the Host check, CORS (only the given origins), the bearer token, the route,
 * the body limit.
 */
export async function startCodecServer(options: CodecServerOptions): Promise<RunningCodecServer> {
  const host = options.host ?? '127.0.0.1';
  // The Host check stops a browser, not a script: one that reaches the port names localhost and is served.
  if (options.token === undefined && !isLoopbackHost(host)) {
    throw new ConfigError(
      `codec-server: --host ${host} is not a loopback address, and without a token whoever reaches it can decrypt ` +
        `every payload: set ${CODEC_TOKEN_ENV} to a bearer token, or bind 127.0.0.1`,
    );
  }
  const server: Server = createServer((request, response) => {
    answerCodecRequest(request, response, options).catch((err: unknown) => {
      if (!response.headersSent) send(response, 500, { error: err instanceof Error ? err.message : String(err) });
    });
  });
  server.listen(options.port ?? 0, host);
  await once(server, 'listening');
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function answerCodecRequest(
  request: IncomingMessage,
  response: ServerResponse,
  options: CodecServerOptions,
): Promise<void> {
  const allowedHosts = options.allowedHosts ?? LOOPBACK_HOST_NAMES;
  if (!hostAllowed(request.headers.host, allowedHosts)) {
    return send(response, 403, {
      error: `Host '${request.headers.host ?? ''}' is not served here (allowed: ${allowedHosts.join(', ')})`,
    });
  }
  const origin = request.headers.origin;
  if (origin !== undefined && options.origins.includes(origin)) {
    response.setHeader('Access-Control-Allow-Origin', origin);
    response.setHeader('Access-Control-Allow-Credentials', 'true');
    response.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
    response.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
    response.setHeader('Vary', 'Origin');
  }
  // A browser's preflight never carries credentials: it is answered before the token is asked for.
  if (request.method === 'OPTIONS') return void response.writeHead(204).end();
  if (options.token !== undefined && !bearerMatches(request.headers.authorization, options.token)) {
    response.setHeader('WWW-Authenticate', 'Bearer realm="leadsync codec"');
    return send(response, 401, { error: 'a bearer token is required (Authorization: Bearer <token>)' });
  }
  const operation = /\/(encode|decode)\/?$/.exec(new URL(request.url ?? '/', 'http://codec').pathname)?.[1];
  if (request.method !== 'POST' || !operation) {
    return send(response, 404, { error: 'POST /encode or /decode with {"payloads": [...]}' });
  }
  if (operation === 'encode' && !options.allowEncode) {
    return send(response, 403, { error: 'this codec server decodes only (start it with --allow-encode to encode)' });
  }
  const limit = options.maxBodyBytes ?? DEFAULT_CODEC_BODY_LIMIT;
  const raw = await readBody(request, limit);
  if (raw === undefined) {
    response.setHeader('Connection', 'close');
    return send(response, 413, { error: `the body is larger than ${limit} bytes` });
  }
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    return send(response, 400, { error: 'the body is not JSON' });
  }
  const parsed = CodecRequestSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return send(response, 400, { error: `${issue?.path.join('.') || '(body)'}: ${issue?.message ?? 'invalid'}` });
  }
  const payloads = parsed.data.payloads.map(fromJsonPayload);
  const coded = operation === 'encode' ? await options.codec.encode(payloads) : await options.codec.decode(payloads);
  send(response, 200, { payloads: coded.map(toJsonPayload) });
}

/** The Host header's name (or name:port) is one of the allowed; a request without one is not served. */
function hostAllowed(host: string | undefined, allowed: readonly string[]): boolean {
  if (!host) return false;
  let hostname: string;
  try {
    hostname = new URL(`http://${host}`).hostname;
  } catch {
    return false;
  }
  const names = allowed.map((name) => name.toLowerCase());
  return names.includes(hostname) || names.includes(host.toLowerCase());
}

/** Compared as SHA-256 digests in constant time: neither the token's content nor its length shows in the timing. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const presented = /^Bearer\s+(.+)$/i.exec(header?.trim() ?? '')?.[1] ?? '';
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(presented), digest(token));
}

/** The whole body, or undefined as soon as it passes the limit (declared or counted): the rest is never held. */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  if (Number(request.headers['content-length'] ?? 0) > limit) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      request.off('data', onData);
      request.pause();
      resolve(undefined);
    };
    request.on('data', onData);
    request.once('end', () => resolve(Buffer.concat(chunks)));
    request.once('error', reject);
  });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
