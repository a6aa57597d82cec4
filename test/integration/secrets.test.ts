import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { startSync, type SyncHandle } from '../../src/api/syncs.js';
import type { SyncInput } from '../../src/core/contract.js';
import {
  startLeadSquaredSimulator,
  type RunningLeadSquaredSimulator,
} from '../../src/vendors/leadsquared/simulator/server.js';
import {
  startSmartLeadSimulator,
  type RunningSmartLeadSimulator,
} from '../../src/vendors/smartlead/simulator/server.js';
import { governorWorkflowId } from '../../src/core/governor/protocol.js';
import { REPO_ROOT, eventually, temporal } from '../helpers/run-cli.js';
import { testClient } from '../helpers/sync-harness.js';
import { testTemporal, uniqueName, uniqueTaskQueue } from '../helpers/temporal.js';

const CAMPAIGN = 3;
/** Writes the vendor fails with a 500 that echoes the request, before answering normally. */
const FAILED_WRITES = 3;

/**
 * A vendor as careless as they come: every error it answers, and the 500s it makes up for the first writes, quote
 * the request back, keys and all (LeadSquared's in headers, SmartLead's api_key in the query string).
 */
async function startEchoingProxy(upstream: string): Promise<{ origin: string; close(): Promise<void> }> {
  let writes = 0;
  const server: Server = createServer((request, response) => {
    void answer(request).then(({ status, headers, body }) => response.writeHead(status, headers).end(body));
  });
  async function answer(request: IncomingMessage) {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const echo =
      `${request.method} ${request.url} (access key ${String(request.headers['x-lsq-accesskey'])}, ` +
      `secret key ${String(request.headers['x-lsq-secretkey'])})`;
    if (request.method === 'POST' && writes++ < FAILED_WRITES) {
      return { status: 500, headers: { 'content-type': 'text/plain' }, body: `internal error handling ${echo}` };
    }
    const forwarded = await fetch(new URL(request.url!, upstream), {
      method: request.method,
      headers: Object.fromEntries(
        Object.entries(request.headers).filter(([name]) => /^(content-type|accept|x-lsq-)/i.test(name)),
      ) as Record<string, string>,
      body: request.method === 'POST' ? Buffer.concat(chunks) : undefined,
    });
    const headers = Object.fromEntries(
      [...forwarded.headers].filter(([name]) => /^(content-type|retry-after|x-ratelimit-)/i.test(name)),
    );
    const text = await forwarded.text();
    return { status: forwarded.status, headers, body: forwarded.status >= 400 ? withEcho(text, echo) : text };
  }
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Puts the echo into the field each vendor's error message is read from. */
function withEcho(text: string, echo: string): string {
  const body = JSON.parse(text) as { ExceptionMessage?: string; message?: string; error?: { message?: string } };
  if (body.ExceptionMessage !== undefined) body.ExceptionMessage += ` for ${echo}`;
  else if (body.error && typeof body.error === 'object') body.error.message = `${body.error.message ?? ''} for ${echo}`;
  else body.message = `${body.message ?? ''} for ${echo}`;
  return JSON.stringify(body);
}

describe('secrets', () => {
  const name = uniqueName('secrets');
  const variable = (what: string) => `${name}_${what}`.replace(/[^A-Za-z0-9]/g, '_').toUpperCase();
  const accessKey = `u$${uniqueName('access')}`;
  const secretKey = uniqueName('secret');
  const wrongSecretKey = uniqueName('wrong-secret');
  const apiKey = uniqueName('apikey');
  const secrets = [accessKey, secretKey, wrongSecretKey, apiKey];
  const accounts = { lsq: `${name}-lsq`, wrongKeys: `${name}-wrong`, smartlead: `${name}-sl` };
  const taskQueue = uniqueTaskQueue('secrets');
  let leadsquared: RunningLeadSquaredSimulator;
  let smartlead: RunningSmartLeadSimulator;
  const proxies: { origin: string; close(): Promise<void> }[] = [];
  let worker: ChildProcess;
  let workerOutput = '';
  let client: Client;
  let connection: Connection;
  let directory: string;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'leadsync-secrets-'));
    leadsquared = await startLeadSquaredSimulator({ plan: 'enterprise', accessKey, secretKey });
    smartlead = await startSmartLeadSimulator({ plan: 'pro', apiKey, campaigns: [{ id: CAMPAIGN }] });
    const lsqProxy = await startEchoingProxy(new URL(leadsquared.baseUrl).origin);
    const slProxy = await startEchoingProxy(new URL(smartlead.baseUrl).origin);
    proxies.push(lsqProxy, slProxy);
    const lsqAccount = (secretKeyEnv: string) => ({
      vendor: 'leadsquared',
      plan: 'enterprise',
      baseUrl: `${lsqProxy.origin}${new URL(leadsquared.baseUrl).pathname}`,
      credentials: { accessKeyEnv: variable('access'), secretKeyEnv },
    });
    const configPath = join(directory, 'leadsync.yaml');
    await writeFile(
      configPath,
      toYaml({
        accounts: {
          [accounts.lsq]: lsqAccount(variable('secret')),
          [accounts.wrongKeys]: lsqAccount(variable('wrong_secret')),
          [accounts.smartlead]: {
            vendor: 'smartlead',
            plan: 'pro',
            baseUrl: `${slProxy.origin}${new URL(smartlead.baseUrl).pathname}`,
            credentials: { apiKeyEnv: variable('api') },
          },
        },
        rejects: { directory: join(directory, 'rejects') },
      }),
    );
    worker = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'worker', '--config', configPath, '--task-queue', taskQueue],
      {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: testTemporal().address,
          TEMPORAL_NAMESPACE: testTemporal().namespace,
          [variable('access')]: accessKey,
          [variable('secret')]: secretKey,
          [variable('wrong_secret')]: wrongSecretKey,
          [variable('api')]: apiKey,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    worker.stdout!.on('data', (chunk: Buffer) => (workerOutput += chunk.toString()));
    worker.stderr!.on('data', (chunk: Buffer) => (workerOutput += chunk.toString()));
    await eventually(
      async () => workerOutput,
      (output) => output.includes('polling lane'),
      { timeoutMs: 120_000 },
    );
    ({ client, connection } = await testClient());
  });

  afterAll(async () => {
    if (worker && worker.exitCode === null) {
      const exited = once(worker, 'exit');
      worker.kill('SIGTERM');
      await exited;
    }
    await connection?.close();
    await Promise.all(proxies.map((proxy) => proxy.close()));
    await leadsquared?.stop();
    await smartlead?.stop();
  });

  it('keeps every key out of histories, worker logs and error messages, even when the vendor echoes them', async () => {
    const csv = async (fileName: string, header: string, count: number) => {
      const path = join(directory, fileName);
      const rows = Array.from({ length: count }, (_, i) => `${name}-${i}@example.com,Name${i}`);
      await writeFile(path, [header, ...rows, ''].join('\n'));
      return path;
    };
    const lsqFile = await csv('lsq.csv', 'EmailAddress,FirstName', 60);
    const slFile = await csv('sl.csv', 'email,first_name', 60);
    const runs: [SyncInput, 'completes' | 'fails'][] = [
      [{ account: accounts.lsq, source: { kind: 'csv', path: lsqFile } }, 'completes'],
      [{ account: accounts.wrongKeys, source: { kind: 'csv', path: lsqFile } }, 'fails'],
      [
        { account: accounts.smartlead, source: { kind: 'csv', path: slFile }, target: { campaignId: CAMPAIGN } },
        'completes',
      ],
      [{ account: accounts.smartlead, source: { kind: 'csv', path: slFile }, target: { campaignId: 999 } }, 'fails'],
    ];
    const handles: SyncHandle[] = [];
    const errors: string[] = [];
    for (const [input, expected] of runs) {
      const handle = await startSync(client, input, { taskQueue });
      handles.push(handle);
      const outcome = await handle.result().then(
        (result) => ({ completed: true, text: JSON.stringify(result) }),
        (err: unknown) => ({ completed: false, text: describeError(err) }),
      );
      expect({ account: input.account, completed: outcome.completed }).toEqual({
        account: input.account,
        completed: expected === 'completes',
      });
      errors.push(outcome.text);
    }
    expect(leadsquared.leads()).toHaveLength(60);
    expect(smartlead.leads(CAMPAIGN)).toHaveLength(60);

    const workflowIds = [
      ...handles.map((handle) => handle.workflowId),
      ...Object.values(accounts).map(governorWorkflowId),
    ];
    const histories: string[] = [];
    for (const workflowId of workflowIds) {
      const shown = await temporal(['workflow', 'show', '--workflow-id', workflowId, '--output', 'json']);
      expect(shown.code, shown.stderr).toBe(0);
      histories.push(shown.stdout, ...decodedPayloads(shown.stdout));
    }

    const searched = { histories: histories.join('\n'), 'worker logs': workerOutput, errors: errors.join('\n') };
    for (const [where, text] of Object.entries(searched)) {
      for (const secret of secrets) {
        for (const form of [secret, encodeURIComponent(secret)]) {
          expect(text.includes(form), `${where} contain a key`).toBe(false);
        }
      }
    }
    // The vendor did echo the keys, and what it said reached the histories and logs with the keys taken out.
    expect(searched.histories).toContain('[REDACTED]');
    expect(searched['worker logs']).toContain('[REDACTED]');
    expect(searched.errors).toMatch(/AuthError|401|invalid/i);
  });
});

/** The message, type and stack of every cause: what a person sees from `leadsync sync` or the client. */
function describeError(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  while (current instanceof Error) {
    parts.push(current.name, current.message, current.stack ?? '');
    current = current.cause;
  }
  return parts.join('\n');
}

/** Payloads in `temporal workflow show -o json` are base64: the keys must not hide there either. */
function decodedPayloads(json: string): string[] {
  return [...json.matchAll(/"data":\s*"([A-Za-z0-9+/=]+)"/g)].map((match) =>
    Buffer.from(match[1]!, 'base64').toString(),
  );
}
