import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSync } from '../../src/client/api.js';
import {
  AesGcmPayloadCodec,
  ENCRYPTED_ENCODING,
  PAYLOAD_KEY_ENV,
  dataConverterFromEnv,
  payloadCodecFromEnv,
  startCodecServer,
  type RunningCodecServer,
} from '../../src/temporal/codec.js';
import { LeadsyncWorker } from '../../src/worker/worker.js';
import {
  LEAD_HEADER,
  csvLines,
  leadRows,
  leadSquaredAccount,
  workflowBundle,
  writeCsv,
  type LeadSquaredSetup,
} from '../helpers/sync-harness.js';
import { testTemporal } from '../helpers/temporal.js';

const UI_ORIGIN = 'http://localhost:8233';

describe('payload encryption', () => {
  const key = randomBytes(32).toString('base64');
  // Read when used: the account setup adds its credentials to this process's environment.
  const env = () => ({ ...process.env, [PAYLOAD_KEY_ENV]: key });
  const codec = payloadCodecFromEnv(env())!;
  let server: RunningCodecServer;

  beforeAll(async () => {
    server = await startCodecServer({ codec, origins: [UI_ORIGIN] });
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
    // Payloads from before encryption was turned on still read.
    expect(await codec.decode([plain])).toEqual([plain]);

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

  describe('on a worker and client holding the key', () => {
    let setup: LeadSquaredSetup;
    let worker: LeadsyncWorker;
    let running: Promise<void>;
    let connection: Connection;

    beforeAll(async () => {
      setup = await leadSquaredAccount({ plan: 'enterprise' });
      worker = await LeadsyncWorker.create({
        config: setup.config,
        ...testTemporal(),
        taskQueue: setup.taskQueue,
        workflowBundle: await workflowBundle(),
        env: env(),
      });
      running = worker.run();
      connection = await Connection.connect({ address: testTemporal().address });
    });

    afterAll(async () => {
      worker?.shutdown();
      await running;
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
      expect(payloads.length).toBeGreaterThan(3);
      for (const payload of payloads) {
        expect(Buffer.from(payload.metadata!.encoding!).toString()).toBe(ENCRYPTED_ENCODING);
        expect(Buffer.from(payload.data!).toString('latin1')).not.toContain(file);
      }
      // Without the key the client cannot read the result; through the codec endpoint the UI can.
      await expect(keyless.workflow.getHandle(handle.workflowId).result()).rejects.toThrow();
      const input = payloads[0]!;
      const [decoded] = await codecCall(server, 'decode', [
        {
          metadata: Object.fromEntries(
            Object.entries(input.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
          ),
          data: Buffer.from(input.data!).toString('base64'),
        },
      ]);
      expect(JSON.parse(Buffer.from(decoded!.data, 'base64').toString())).toMatchObject({
        account: setup.accountName,
        source: { kind: 'csv', path: file },
      });
    });
  });
});

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
