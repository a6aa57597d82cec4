import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import { ConfigError } from '../config/errors.js';

/** 32 random bytes in base64 (`openssl rand -base64 32`); unset, payloads go to Temporal as plain JSON. */
export const PAYLOAD_KEY_ENV = 'LEADSYNC_PAYLOAD_KEY';
export const ENCRYPTED_ENCODING = 'binary/encrypted';
const KEY_ID_METADATA = 'encryption-key-id';
const CIPHER_METADATA = 'encryption-cipher';
const CIPHER = 'AES-256-GCM';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const KeySchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9+/]{43}=$/, 'must be 32 bytes in base64, e.g. the output of `openssl rand -base64 32`')
  .transform((text) => Buffer.from(text, 'base64'));

/** A payload in the JSON form of Temporal's remote codec protocol: metadata values and data in base64. */
const JsonPayloadSchema = z.object({
  metadata: z.record(z.string(), z.base64()).nullish(),
  data: z.base64().nullish(),
});
type JsonPayload = z.infer<typeof JsonPayloadSchema>;
const CodecRequestSchema = z.object({ payloads: z.array(JsonPayloadSchema) });

/**
 * Encrypts every payload (workflow inputs and results, activity arguments, failures' details) with AES-256-GCM
 * before it leaves the process, so the server, its database and anyone reading histories without the key see
 * ciphertext. Each payload carries the id of its key, so a payload written under another key fails with a message
 * saying which, and payloads written before encryption was turned on still read.
 */
export class AesGcmPayloadCodec implements PayloadCodec {
  /** Names the key without revealing it: the start of its SHA-256. */
  readonly keyId: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new ConfigError(`an AES-256-GCM key is 32 bytes, not ${key.length}`);
    this.keyId = createHash('sha256').update(key).digest('hex').slice(0, 16);
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encrypt(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.decrypt(payload));
  }

  private encrypt(payload: Payload): Payload {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    // The key id is authenticated with the data: a payload cannot be relabelled to another key unnoticed.
    cipher.setAAD(Buffer.from(this.keyId));
    const sealed = Buffer.concat([cipher.update(JSON.stringify(toJsonPayload(payload))), cipher.final()]);
    return {
      metadata: {
        encoding: Buffer.from(ENCRYPTED_ENCODING),
        [CIPHER_METADATA]: Buffer.from(CIPHER),
        [KEY_ID_METADATA]: Buffer.from(this.keyId),
      },
      data: Buffer.concat([iv, sealed, cipher.getAuthTag()]),
    };
  }

  private decrypt(payload: Payload): Payload {
    const metadata = payload.metadata ?? {};
    if (text(metadata.encoding) !== ENCRYPTED_ENCODING) return payload;
    const keyId = text(metadata[KEY_ID_METADATA]);
    if (keyId !== this.keyId) {
      throw new Error(
        `payload encrypted with key ${keyId ?? '(none named)'}, but ${PAYLOAD_KEY_ENV} holds key ${this.keyId}`,
      );
    }
    const data = Buffer.from(payload.data ?? []);
    if (data.length < IV_BYTES + TAG_BYTES) throw new Error('encrypted payload too short to hold its IV and tag');
    const decipher = createDecipheriv('aes-256-gcm', this.key, data.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(keyId));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    const plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    return fromJsonPayload(JsonPayloadSchema.parse(JSON.parse(plain.toString('utf8'))));
  }
}

/** The codec the environment asks for; undefined when no key is set. A malformed key fails naming the variable. */
export function payloadCodecFromEnv(env: NodeJS.ProcessEnv = process.env): AesGcmPayloadCodec | undefined {
  const raw = env[PAYLOAD_KEY_ENV];
  if (raw === undefined || raw.trim() === '') return undefined;
  const key = KeySchema.safeParse(raw);
  if (!key.success) throw new ConfigError(`${PAYLOAD_KEY_ENV}: ${key.error.issues[0]?.message ?? 'invalid key'}`);
  return new AesGcmPayloadCodec(key.data);
}

/** What a Client or Worker takes as `dataConverter`: encryption when the environment holds a key, else the default. */
export function dataConverterFromEnv(env: NodeJS.ProcessEnv = process.env): DataConverter | undefined {
  const codec = payloadCodecFromEnv(env);
  return codec ? { payloadCodecs: [codec] } : undefined;
}

export interface CodecServerOptions {
  codec: PayloadCodec;
  port?: number;
  host?: string;
  /** Origins allowed to call from a browser: the Temporal Web UI's. */
  origins: readonly string[];
}

export interface RunningCodecServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Temporal's remote codec endpoint: POST `/encode` and `/decode` with `{payloads: [...]}` in the protocol's JSON
 * form, so the Web UI (and `temporal workflow show --codec-endpoint`) can show what the payloads say. CORS admits
 * only the given origins: a page elsewhere cannot use the endpoint to decrypt.
 */
export async function startCodecServer(options: CodecServerOptions): Promise<RunningCodecServer> {
  const server: Server = createServer((request, response) => {
    answerCodecRequest(request, response, options).catch((err: unknown) => {
      if (!response.headersSent) send(response, 500, { error: err instanceof Error ? err.message : String(err) });
    });
  });
  server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
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
  { codec, origins }: CodecServerOptions,
): Promise<void> {
  const origin = request.headers.origin;
  if (origin !== undefined && origins.includes(origin)) {
    response.setHeader('Access-Control-Allow-Origin', origin);
    response.setHeader('Access-Control-Allow-Credentials', 'true');
    response.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
    response.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
    response.setHeader('Vary', 'Origin');
  }
  if (request.method === 'OPTIONS') return void response.writeHead(204).end();
  const operation = /\/(encode|decode)\/?$/.exec(new URL(request.url ?? '/', 'http://codec').pathname)?.[1];
  if (request.method !== 'POST' || !operation) {
    return send(response, 404, { error: 'POST /encode or /decode with {"payloads": [...]}' });
  }
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return send(response, 400, { error: 'the body is not JSON' });
  }
  const parsed = CodecRequestSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return send(response, 400, { error: `${issue?.path.join('.') || '(body)'}: ${issue?.message ?? 'invalid'}` });
  }
  const payloads = parsed.data.payloads.map(fromJsonPayload);
  const coded = operation === 'encode' ? await codec.encode(payloads) : await codec.decode(payloads);
  send(response, 200, { payloads: coded.map(toJsonPayload) });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function toJsonPayload(payload: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
    ),
    data: Buffer.from(payload.data ?? []).toString('base64'),
  };
}

function fromJsonPayload(payload: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')]),
    ),
    data: Buffer.from(payload.data ?? '', 'base64'),
  };
}

function text(value: Uint8Array | null | undefined): string | undefined {
  return value ? Buffer.from(value).toString('utf8') : undefined;
}
