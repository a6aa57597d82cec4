import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { REFUSED_PLAIN_ENCODING } from './keyed-converters.cjs';

/** 32 random bytes in base64 (`openssl rand -base64 32`); unset, payloads go to Temporal as plain JSON. */
export const PAYLOAD_KEY_ENV = 'LEADSYNC_PAYLOAD_KEY';
/** `1`: a payload that arrives unencrypted is refused rather than read (needs the key). */
export const REQUIRE_ENCRYPTED_ENV = 'LEADSYNC_REQUIRE_ENCRYPTED';
/**
 * The converters of a process holding the key: its failure converter puts failure messages and stack traces into a
 * payload the codec encrypts (`encodeCommonAttributes`), so histories show "Encoded failure" to anyone without the
 * key; its payload converter turns a plain payload the codec refused into a non-retryable failure.
 */
export const KEYED_CONVERTERS_PATH = fileURLToPath(new URL('./keyed-converters.cjs', import.meta.url));
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
export const JsonPayloadSchema = z.object({
  metadata: z.record(z.string(), z.base64()).nullish(),
  data: z.base64().nullish(),
});
export type JsonPayload = z.infer<typeof JsonPayloadSchema>;

/**
 * Encrypts every payload (workflow inputs and results, activity arguments, failures' details) with AES-256-GCM
 * before it leaves the process, so the server, its database and anyone reading histories without the key see
 * ciphertext. Each payload carries the id of its key, so a payload written under another key fails with a message
 * saying which, and payloads written before encryption was turned on still read.
 */
export class AesGcmPayloadCodec implements PayloadCodec {
  /** Names the key without revealing it: the start of its SHA-256. */
  readonly keyId: string;

  constructor(
    private readonly key: Buffer,
    /**
     * Refuse a payload that is not encrypted instead of passing it through: whoever can write to the namespace could
     * otherwise hand the worker plain input (a workflow started without the key) that the key was meant to vouch for.
     */
    private readonly requireEncrypted = false,
  ) {
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
    if (text(metadata.encoding) !== ENCRYPTED_ENCODING) return this.requireEncrypted ? refused(payload) : payload;
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

/**
 * A plain payload the process may not read, replaced by one that says why: the payload converter makes it a value
 * that throws a non-retryable failure where it is read, so a workflow started with plain input fails at once (a codec
 * error would instead fail its workflow task over and over and leave the workflow open).
 */
function refused(payload: Payload): Payload {
  const reason =
    `refused a payload that is not encrypted (encoding ${text(payload.metadata?.encoding) ?? 'none'}): ` +
    `${REQUIRE_ENCRYPTED_ENV} is set, so inputs must come from a client holding ${PAYLOAD_KEY_ENV} ` +
    `(or through a codec server's /encode)`;
  return { metadata: { encoding: Buffer.from(REFUSED_PLAIN_ENCODING) }, data: Buffer.from(reason) };
}

/**
 * The codec the environment asks for; undefined when no key is set. A malformed key, or a demand for encrypted input
 * without a key, fails naming the variable.
 */
export function payloadCodecFromEnv(env: NodeJS.ProcessEnv = process.env): AesGcmPayloadCodec | undefined {
  const raw = env[PAYLOAD_KEY_ENV];
  const requireEncrypted = RequireEncryptedSchema.safeParse(env[REQUIRE_ENCRYPTED_ENV]);
  if (!requireEncrypted.success) throw new ConfigError(`${REQUIRE_ENCRYPTED_ENV}: must be 1, true, 0, false or unset`);
  if (raw === undefined || raw.trim() === '') {
    if (requireEncrypted.data) throw new ConfigError(`${REQUIRE_ENCRYPTED_ENV} is set, but ${PAYLOAD_KEY_ENV} is not`);
    return undefined;
  }
  const key = KeySchema.safeParse(raw);
  if (!key.success) throw new ConfigError(`${PAYLOAD_KEY_ENV}: ${key.error.issues[0]?.message ?? 'invalid key'}`);
  return new AesGcmPayloadCodec(key.data, requireEncrypted.data);
}

const RequireEncryptedSchema = z
  .enum(['', '0', '1', 'false', 'true'])
  .optional()
  .transform((value) => value === '1' || value === 'true');

/**
 * What a Client or Worker takes as `dataConverter`: with a key in the environment, payloads and failures encrypted
 * (a worker given a prebuilt workflow bundle needs one built with these converter paths too); else the default.
 */
export function dataConverterFromEnv(env: NodeJS.ProcessEnv = process.env): DataConverter | undefined {
  const codec = payloadCodecFromEnv(env);
  return codec
    ? {
        payloadCodecs: [codec],
        payloadConverterPath: KEYED_CONVERTERS_PATH,
        failureConverterPath: KEYED_CONVERTERS_PATH,
      }
    : undefined;
}

export function toJsonPayload(payload: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
    ),
    data: Buffer.from(payload.data ?? []).toString('base64'),
  };
}

export function fromJsonPayload(payload: JsonPayload): Payload {
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
