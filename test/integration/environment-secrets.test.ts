import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSync } from '../../src/api/syncs.js';
import { workerRedactor } from '../../src/config/secrets.js';
import { JsonLogger } from '../../src/observability/logger.js';
import { installRuntime } from '../../src/observability/runtime.js';
import { PAYLOAD_KEY_ENV, dataConverterFromEnv } from '../../src/temporal/codec.js';
import {
  encryptingWorkflowBundle,
  leadSquaredAccount,
  startTestWorker,
  type LeadSquaredSetup,
} from '../helpers/sync-harness.js';
import { eventually, leadsync } from '../helpers/run-cli.js';
import { testTemporal, uniqueName } from '../helpers/temporal.js';

/**
 * Issue 13, row 1: a sync whose source is the worker's own environment (as /proc/self/environ is) gets a mapping
 * error listing that "file"'s columns, and the failure carries them to the client and into history.
 */
describe('secrets the worker reads from its environment', () => {
  const password = `pw/${randomBytes(6).toString('hex')}@x`;
  const databaseVariable = uniqueName('crm_url').replace(/\W/g, '_').toUpperCase();
  const databaseUrl = `postgres://leadsync:${encodeURIComponent(password)}@127.0.0.1:5432/test`;
  const payloadKey = randomBytes(32).toString('base64');
  const secret = (what: string) => `${what}-${randomBytes(8).toString('hex')}`;
  // Issue 19: the Temporal API key's variable (named by the config alone), TLS key data, and whatever else the
  // environment holds under a secret's name. The PEM goes last: the "file" quotes up to its first line break.
  const temporalKeyVariable = uniqueName('tcloud').replace(/\W/g, '_').toUpperCase();
  const namedSecrets = {
    [temporalKeyVariable]: secret('tcld'),
    MAILER_API_KEY: secret('mailer'),
    WEBHOOK_SECRET: secret('webhook'),
    SMTP_PASSWORD: secret('smtp'),
    GITHUB_TOKEN: secret('ghp'),
    TEMPORAL_TLS_KEY_DATA: `-----BEGIN PRIVATE KEY-----\n${randomBytes(24).toString('base64')}\n-----END PRIVATE KEY-----\n`,
  };
  const logLines: string[] = [];
  let setup: LeadSquaredSetup;
  let env: NodeJS.ProcessEnv;
  let worker: { stop(): Promise<void> } | undefined;
  let connection: Connection;

  beforeAll(async () => {
    setup = await leadSquaredAccount({ plan: 'enterprise' });
    env = { ...process.env, [databaseVariable]: databaseUrl, [PAYLOAD_KEY_ENV]: payloadKey, ...namedSecrets };
    const config = {
      ...setup.config,
      postgresConnections: { crm: { urlEnv: databaseVariable, tables: [], lookBackSeconds: 0 } },
      temporal: { apiKeyEnv: temporalKeyVariable },
    };
    // As `leadsync worker` does: the SDK's, workflows' and activities' logs through the worker's redactor.
    installRuntime({
      logger: new JsonLogger({ redactor: workerRedactor(config, env), sink: { write: (line) => logLines.push(line) } }),
    });
    worker = await startTestWorker({ ...setup, config }, undefined, {
      workflowBundle: await encryptingWorkflowBundle(),
      env,
    });
    connection = await Connection.connect({ address: testTemporal().address });
  });

  afterAll(async () => {
    await worker?.stop();
    await connection?.close();
    await setup?.simulator.stop();
  });

  it("are redacted from a failure that quotes them, for the client, in history and in the worker's log", async () => {
    // A failure quotes a file's first 20 "columns": the secrets go first, the PEM last of them (its first line break
    // ends the "header"), then the rest of the environment.
    const { TEMPORAL_TLS_KEY_DATA: pem, ...named } = namedSecrets;
    const first = {
      [databaseVariable]: databaseUrl,
      [PAYLOAD_KEY_ENV]: payloadKey,
      ...named,
      TEMPORAL_TLS_KEY_DATA: pem,
    };
    const environ = Object.entries({ ...first, ...env, ...first })
      .map(([name, value]) => `${name}=${value ?? ''}`)
      .join('\0');
    const file = join(setup.directory, 'environ');
    await writeFile(file, `${environ}\0`);
    const client = new Client({
      connection,
      namespace: testTemporal().namespace,
      dataConverter: dataConverterFromEnv(env),
    });
    const handle = await startSync(
      client,
      { account: setup.accountName, source: { kind: 'csv', path: file }, mapping: { EmailAddress: 'email' } },
      { taskQueue: setup.taskQueue },
    );
    const failure = await handle.result().then(
      () => '',
      (err: unknown) => messages(err),
    );
    // The mechanism is real: the failure lists the "columns", the first variable's name and all; its value is cut
    // before it (a "column" that long is shown by its start, never past an `=`), or redacted...
    const shown = (name: string) => new RegExp(`${name}=(\\[REDACTED\\]|…)`);
    expect(failure).toMatch(shown(databaseVariable));
    const history = JSON.stringify(await client.workflow.getHandle(handle.workflowId).fetchHistory());
    // ...and the worker logged it (the failures' lines may come after the client has seen the failure)...
    const logs = await eventually(
      async () => logLines.join('\n'),
      (text) => text.includes('Activity failed') && text.includes('Workflow failed'),
      { timeoutMs: 10_000 },
    );
    expect(logs).toMatch(shown(databaseVariable));
    // ...but no value the worker holds as a secret, in any spelling, nor a line of the PEM.
    const secrets = [
      databaseUrl,
      password,
      encodeURIComponent(password),
      payloadKey,
      ...Object.values(setup.env),
      ...Object.values(namedSecrets).flatMap((value) => value.split('\n').filter(Boolean)),
    ];
    for (const [where, text] of Object.entries({ failure, history, logs })) {
      for (const secret of secrets) expect(text.includes(secret), `${where} holds ${secret}`).toBe(false);
    }
  });
});

describe('the CLI', () => {
  it('redacts the secrets of its environment and of the config it loaded from the errors it prints', async () => {
    const prefix = uniqueName('cli').replace(/\W/g, '_').toUpperCase();
    // Variable names that do not look like secrets: only the config says they are.
    const env = {
      [`${prefix}_LSQ_A`]: `access-${randomBytes(6).toString('hex')}`,
      [`${prefix}_LSQ_B`]: `secret-${randomBytes(6).toString('hex')}`,
      [`${prefix}_CRM`]: `postgres://leadsync:${randomBytes(6).toString('hex')}@127.0.0.1:5432/test`,
      [PAYLOAD_KEY_ENV]: randomBytes(32).toString('base64'),
    };
    const directory = await mkdtemp(join(tmpdir(), 'leadsync-cli-secrets-'));
    const config = join(directory, 'cli.yaml');
    await writeFile(
      config,
      toYaml({
        accounts: {
          acme: {
            vendor: 'leadsquared',
            plan: 'pro',
            baseUrl: 'https://api.leadsquared.com/v2/',
            credentials: { accessKeyEnv: `${prefix}_LSQ_A`, secretKeyEnv: `${prefix}_LSQ_B` },
          },
        },
        sources: { postgres: { crm: { urlEnv: `${prefix}_CRM` } } },
      }),
    );
    const file = join(directory, 'quoted.csv');
    await writeFile(
      file,
      `${Object.entries(env)
        .map(([name, value]) => `${name}=${value}`)
        .join(',')}\nx,y,z,w\n`,
    );
    const mapping = join(directory, 'mapping.json');
    await writeFile(mapping, JSON.stringify({ EmailAddress: 'email' }));

    const ran = await leadsync(
      ['sync', '--dry-run', '--config', config, '--account', 'acme', '--file', file, '--mapping', mapping],
      env,
    );

    expect(ran.code).toBe(2);
    expect(ran.stderr).toContain(`${prefix}_LSQ_A=[REDACTED]`);
    for (const secret of Object.values(env)) expect(ran.stderr.includes(secret), ran.stderr).toBe(false);
  });
});

function messages(err: unknown): string {
  const parts: string[] = [];
  for (let current: unknown = err; current instanceof Error; current = current.cause) {
    parts.push(current.message, current.stack ?? '');
  }
  return parts.join('\n');
}
