import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { loadDataConverter } from '@temporalio/common/lib/internal-non-workflow/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSync, syncProgress } from '../../src/api/syncs.js';
import { governorWorkflowId, releaseSignal, reportSignal } from '../../src/core/governor/protocol.js';
import { backoffSignal } from '../../src/core/sync-messages.js';
import {
  AesGcmPayloadCodec,
  ENCRYPTED_ENCODING,
  PAYLOAD_KEY_ENV,
  REQUIRE_ENCRYPTED_ENV,
  dataConverterFromEnv,
  payloadCodecFromEnv,
} from '../../src/temporal/codec.js';
import { startCodecServer, type RunningCodecServer } from '../../src/temporal/codec-server.js';
import {
  LEAD_HEADER,
  csvLines,
  encryptingWorkflowBundle,
  leadRows,
  leadSquaredAccount,
  startTestWorker,
  writeCsv,
  type LeadSquaredSetup,
} from '../helpers/sync-harness.js';
import { causes } from '../helpers/failure.js';
import { eventually } from '../helpers/run-cli.js';
import { testTemporal } from '../helpers/temporal.js';

const UI_ORIGIN = 'http://localhost:8233';

describe('payload encryption', () => {
  const key = randomBytes(32).toString('base64');
  // Read when used: the account setup adds its credentials to this process's environment.
  const env = () => ({ ...process.env, [PAYLOAD_KEY_ENV]: key, [REQUIRE_ENCRYPTED_ENV]: '1' });
  const codec = payloadCodecFromEnv(env())!;
  let server: RunningCodecServer;

  beforeAll(async () => {
    server = await startCodecServer({ codec, origins: [UI_ORIGIN], allowEncode: true });
  });

  afterAll(async () => {
    await server?.close();
  });

  it('round-trips payloads, and refuses another key, a tampered payload and a malformed key', async () => {
    const value = { email: 'ada@example.com', rows: [1, 2] };
    const plain = defaultPayloadConverter.toPayload(value);
    const [sealed] = await codec.encode([plain]);
    expect(Buffer.from(sealed!.metadata!.encoding!).toString()).toBe(ENCRYPTED_ENCODING);
    expect(Buffer.from(sealed!.data!).toString('latin1')).not.toContain('ada@example.com');
    const [opened] = await codec.decode([sealed!]);
    expect(defaultPayloadConverter.fromPayload(opened!)).toEqual(value);
    // Payloads from before encryption was turned on still read, unless the process demands encrypted input.
    expect(await payloadCodecFromEnv({ [PAYLOAD_KEY_ENV]: key })!.decode([plain])).toEqual([plain]);
    const [refused] = await codec.decode([plain]);
    const read = loadDataConverter(dataConverterFromEnv(env())).payloadConverter.fromPayload<{ email?: string }>(
      refused!,
    );
    expect(() => read.email).toThrow(
      `refused a payload that is not encrypted (encoding json/plain): ${REQUIRE_ENCRYPTED_ENV} is set`,
    );
    expect(() => payloadCodecFromEnv({ [PAYLOAD_KEY_ENV]: key, [REQUIRE_ENCRYPTED_ENV]: 'yes' })).toThrow(
      `${REQUIRE_ENCRYPTED_ENV}: must be 1, true, 0, false or unset`,
    );
    expect(() => payloadCodecFromEnv({ [REQUIRE_ENCRYPTED_ENV]: '1' })).toThrow(
      `${REQUIRE_ENCRYPTED_ENV} is set, but ${PAYLOAD_KEY_ENV} is not`,
    );

    const other = new AesGcmPayloadCodec(randomBytes(32));
    await expect(other.decode([sealed!])).rejects.toThrow(`encrypted with key ${codec.keyId}`);
    const tampered = { ...sealed!, data: Buffer.from(sealed!.data!).fill(0, 20, 21) };
    await expect(codec.decode([tampered])).rejects.toThrow(/unable to authenticate/);
    expect(() => payloadCodecFromEnv({ [PAYLOAD_KEY_ENV]: 'c2hvcnQ=' })).toThrow(new RegExp(`^${PAYLOAD_KEY_ENV}: `));
    expect(payloadCodecFromEnv({})).toBeUndefined();
  });

  it('serves /encode and /decode to the Web UI origin only', async () => {
    const preflight = await fetch(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: { origin: UI_ORIGIN, 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/X-Namespace/);
    const elsewhere = await fetch(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.test' },
    });
    expect(elsewhere.headers.get('access-control-allow-origin')).toBeNull();

    const json = { metadata: { encoding: b64('json/plain') }, data: b64('"hello"') };
    const encoded = await codecCall(server, 'encode', [json]);
    expect(Buffer.from(encoded[0]!.metadata.encoding!, 'base64').toString()).toBe(ENCRYPTED_ENCODING);
    expect(await codecCall(server, 'decode', encoded)).toEqual([json]);

    const bad = await fetch(`${server.url}/decode`, { method: 'POST', body: '{"payloads":[{"data":"***"}]}' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/payloads\.0\.data/);
  });

  it('asks every call but the preflight for the bearer token, and decodes only unless told', async () => {
    const token = randomBytes(24).toString('hex');
    const guarded = await startCodecServer({ codec, origins: [UI_ORIGIN], token });
    try {
      const sealed = await codec.encode([defaultPayloadConverter.toPayload('hello')]);
      const call = (operation: string, authorization?: string) =>
        fetch(`${guarded.url}/${operation}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
          body: JSON.stringify({ payloads: sealed.map(wire) }),
        });
      for (const authorization of [undefined, `Bearer ${token.slice(0, -1)}`, `Bearer ${token}x`, token]) {
        const refused = await call('decode', authorization);
        expect(refused.status, String(authorization)).toBe(401);
        expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer/);
      }
      const preflight = await fetch(`${guarded.url}/decode`, {
        method: 'OPTIONS',
        headers: { origin: UI_ORIGIN, 'access-control-request-headers': 'authorization' },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Authorization/);

      const decoded = await call('decode', `Bearer ${token}`);
      expect(decoded.status).toBe(200);
      const [payload] = ((await decoded.json()) as { payloads: WirePayload[] }).payloads;
      expect(Buffer.from(payload!.data, 'base64').toString()).toBe('"hello"');
      const encode = await call('encode', `Bearer ${token}`);
      expect(encode.status).toBe(403);
      expect(await encode.text()).toMatch(/decodes only.*--allow-encode/);
    } finally {
      await guarded.close();
    }
  });

  it('refuses a Host it does not serve (DNS rebinding) and a body over its limit', async () => {
    const limited = await startCodecServer({ codec, origins: [UI_ORIGIN], maxBodyBytes: 4096 });
    try {
      const port = new URL(limited.url).port;
      const body = JSON.stringify({ payloads: [] });
      expect(await rawPost(limited.url, { host: `rebound.evil.test:${port}` }, [body])).toMatchObject({
        status: 403,
        body: expect.stringMatching(/Host 'rebound\.evil\.test:\d+' is not served here/),
      });
      for (const host of [`localhost:${port}`, `127.0.0.1:${port}`]) {
        expect((await rawPost(limited.url, { host }, [body])).status).toBe(200);
      }
      const big = JSON.stringify({ payloads: [{ data: Buffer.alloc(8192).toString('base64') }] });
      const declared = await fetch(`${limited.url}/decode`, { method: 'POST', body: big });
      expect(declared.status).toBe(413);
      // Chunked, with no length declared: refused once the count passes the limit.
      const chunked = await rawPost(limited.url, {}, [big.slice(0, 3000), big.slice(3000, 6000), big.slice(6000)]);
      expect(chunked.status).toBe(413);
    } finally {
      await limited.close();
    }
  });

  describe('on a worker and client holding the key', () => {
    let setup: LeadSquaredSetup;
    let worker: { stop(): Promise<void> } | undefined;
    let connection: Connection;

    beforeAll(async () => {
      setup = await leadSquaredAccount({ plan: 'enterprise' });
      worker = await startTestWorker(setup, undefined, {
        workflowBundle: await encryptingWorkflowBundle(),
        env: env(),
      });
      connection = await Connection.connect({ address: testTemporal().address });
    });

    afterAll(async () => {
      await worker?.stop();
      await connection?.close();
      await setup?.simulator.stop();
    });

    it('syncs, and leaves history payloads that only the key (or the codec endpoint) can read', async () => {
      const { namespace } = testTemporal();
      const rows = leadRows(5);
      const file = await writeCsv(setup.directory, 'leads.csv', LEAD_HEADER, csvLines(rows));
      const keyed = new Client({ connection, namespace, dataConverter: dataConverterFromEnv(env()) });
      const handle = await startSync(
        keyed,
        { account: setup.accountName, source: { kind: 'csv', path: file } },
        { taskQueue: setup.taskQueue },
      );
      expect(await handle.result()).toMatchObject({ read: 5, accepted: 5 });

      const keyless = new Client({ connection, namespace });
      const history = await keyless.workflow.getHandle(handle.workflowId).fetchHistory();
      const payloads = (history.events ?? []).flatMap((event) => [
        ...(event.workflowExecutionStartedEventAttributes?.input?.payloads ?? []),
        ...(event.activityTaskScheduledEventAttributes?.input?.payloads ?? []),
        ...(event.activityTaskCompletedEventAttributes?.result?.payloads ?? []),
        ...(event.workflowExecutionCompletedEventAttributes?.result?.payloads ?? []),
      ]);
      // Summaries (the workflow's, each chunk activity's) pass the codec too.
      const summaries = (history.events ?? []).flatMap((event) => event.userMetadata?.summary ?? []);
      expect(summaries.length).toBeGreaterThan(1);
      payloads.push(...summaries);
      expect(payloads.length).toBeGreaterThan(3);
      for (const payload of payloads) {
        expect(Buffer.from(payload.metadata!.encoding!).toString()).toBe(ENCRYPTED_ENCODING);
        expect(Buffer.from(payload.data!).toString('latin1')).not.toContain(file);
      }
      // Without the key the client cannot read the result; through the codec endpoint the UI can.
      await expect(keyless.workflow.getHandle(handle.workflowId).result()).rejects.toThrow();
      const [decoded] = await codecCall(server, 'decode', [wire(payloads[0] as Payload)]);
      expect(JSON.parse(Buffer.from(decoded!.data, 'base64').toString())).toMatchObject({
        account: setup.accountName,
        source: { kind: 'csv', path: file },
      });
    });

    it('stores failure messages and stack traces encrypted', async () => {
      const { namespace } = testTemporal();
      const file = await writeCsv(setup.directory, 'unmapped.csv', LEAD_HEADER, csvLines(leadRows(2)));
      const keyed = new Client({ connection, namespace, dataConverter: dataConverterFromEnv(env()) });
      const handle = await startSync(
        keyed,
        { account: setup.accountName, source: { kind: 'csv', path: file }, mapping: { EmailAddress: 'email' } },
        { taskQueue: setup.taskQueue },
      );
      const failure = await handle.result().then(
        () => '',
        (err: unknown) => causes(err).join('\n'),
      );
      expect(failure).toContain("the source has no column 'email'");

      const keyless = new Client({ connection, namespace });
      const history = await keyless.workflow.getHandle(handle.workflowId).fetchHistory();
      const failures = (history.events ?? []).flatMap((event) => {
        const top =
          event.activityTaskFailedEventAttributes?.failure ?? event.workflowExecutionFailedEventAttributes?.failure;
        const chain = [];
        for (let current = top; current; current = current.cause) chain.push(current);
        return chain;
      });
      expect(failures.length).toBeGreaterThanOrEqual(2);
      for (const stored of failures) {
        expect(stored.message).toBe('Encoded failure');
        expect(stored.stackTrace ?? '').toBe('');
        expect(Buffer.from(stored.encodedAttributes!.metadata!.encoding!).toString()).toBe(ENCRYPTED_ENCODING);
      }
      expect(JSON.stringify(history)).not.toContain('no column');
    });

    it('drops a plain signal to a running sync and its governor, and neither fails a workflow task', async () => {
      const { namespace } = testTemporal();
      const file = await writeCsv(setup.directory, 'signalled.csv', LEAD_HEADER, csvLines(leadRows(200)));
      const keyed = new Client({ connection, namespace, dataConverter: dataConverterFromEnv(env()) });
      const keyless = new Client({ connection, namespace });
      const handle = await startSync(
        keyed,
        { account: setup.accountName, source: { kind: 'csv', path: file } },
        { taskQueue: setup.taskQueue },
      );
      await eventually(
        () => syncProgress(handle),
        (progress) => progress.counts.read > 0,
      );

      const governorId = governorWorkflowId(setup.accountName);
      await keyless.workflow.getHandle(handle.workflowId).signal(backoffSignal, { lane: 'general', until: Date.now() });
      await keyless.workflow.getHandle(governorId).signal(releaseSignal, { grant: 'forged', slots: [Date.now()] });
      await keyless.workflow
        .getHandle(governorId)
        .signal(reportSignal, { kind: 'rate-limited', grant: 'forged', at: Date.now(), retryAfterMs: 1_000 });

      expect(await handle.result()).toMatchObject({ read: 200, accepted: 200 });
      for (const workflowId of [handle.workflowId, governorId]) {
        const events = (await keyed.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
        expect(events.filter((event) => event.workflowExecutionSignaledEventAttributes).length).toBeGreaterThan(0);
        expect(events.filter((event) => event.workflowTaskFailedEventAttributes)).toEqual([]);
      }
    });

    it('fails a workflow started without the key, naming the setting, before anything runs', async () => {
      const { namespace } = testTemporal();
      const file = await writeCsv(setup.directory, 'plain.csv', LEAD_HEADER, csvLines(leadRows(2)));
      const keyless = new Client({ connection, namespace });
      const storedBefore = setup.simulator.leads().length;
      const started = await startSync(
        keyless,
        { account: setup.accountName, source: { kind: 'csv', path: file } },
        { taskQueue: setup.taskQueue },
      );

      const keyed = new Client({ connection, namespace, dataConverter: dataConverterFromEnv(env()) });
      const handle = keyed.workflow.getHandle(started.workflowId);
      const failure = await handle.result().then(
        () => '',
        (err: unknown) => causes(err).join('\n'),
      );
      expect(failure).toContain(
        `refused a payload that is not encrypted (encoding json/plain): ${REQUIRE_ENCRYPTED_ENV} is set`,
      );
      expect((await handle.describe()).status.name).toBe('FAILED');
      const events = (await handle.fetchHistory()).events ?? [];
      expect(events.some((event) => event.activityTaskScheduledEventAttributes)).toBe(false);
      expect(setup.simulator.leads()).toHaveLength(storedBefore);
    });
  });
});

function wire(payload: Payload): WirePayload {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    ),
    data: Buffer.from(payload.data ?? []).toString('base64'),
  };
}

/** A POST through node:http, which (unlike fetch) sends the Host header it is given, and chunks without a length. */
function rawPost(
  base: string,
  headers: Record<string, string>,
  chunks: string[],
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${base}/decode`, { method: 'POST', headers }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    for (const chunk of chunks) request.write(chunk);
    request.end();
  });
}

interface WirePayload {
  metadata: Record<string, string>;
  data: string;
}

async function codecCall(
  server: RunningCodecServer,
  operation: 'encode' | 'decode',
  payloads: WirePayload[],
): Promise<WirePayload[]> {
  const response = await fetch(`${server.url}/${operation}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-namespace': 'default', origin: UI_ORIGIN },
    body: JSON.stringify({ payloads }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { payloads: WirePayload[] }).payloads;
}

function b64(text: string): string {
  return Buffer.from(text).toString('base64');
}
