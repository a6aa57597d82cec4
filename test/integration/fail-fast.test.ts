import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { beforeAll, describe, expect, it } from 'vitest';
import { startSync } from '../../src/api/syncs.js';
import {
  LEAD_HEADER,
  csvLines,
  leadRows,
  leadSquaredSyncFixture,
  startTestWorker,
  writeCsv,
} from '../helpers/sync-harness.js';
import { testTemporal } from '../helpers/temporal.js';
import { pendingFailure } from '../helpers/workflow-failure.js';

/** Runs the leadsync CLI as a user would, against the test's Temporal server. */
async function leadsync(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    env: { ...process.env, ...env, TEMPORAL_ADDRESS: testTemporal().address },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  return { code, stdout, stderr };
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause?.cause ?? (err as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

describe('a sync that cannot work', () => {
  const fixture = leadSquaredSyncFixture({ plan: 'enterprise' });
  let file: string;

  beforeAll(async () => {
    file = await writeCsv(fixture.setup.directory, 'leads.csv', LEAD_HEADER, csvLines(leadRows(10)));
  });

  it('fails at once on wrong credentials, naming the account and never the key, before any lead is written', async () => {
    const secretVariable = Object.keys(fixture.setup.env).find((k) => k.endsWith('_SECRET_KEY'))!;
    const realSecret = process.env[secretVariable]!;
    const wrongSecret = `wrong-${realSecret}`;
    // The worker reads credentials when it first connects the account: a second worker holds the wrong one.
    const badSetup = { ...fixture.setup, taskQueue: `${fixture.setup.taskQueue}-bad` };
    process.env[secretVariable] = wrongSecret;
    const badWorker = await startTestWorker(badSetup);
    try {
      const handle = await startSync(
        fixture.client,
        { account: fixture.setup.accountName, source: { kind: 'csv', path: file } },
        { taskQueue: badSetup.taskQueue },
      );

      const failure = await failureOf(handle.result());

      expect(failure.type).toBe('AuthError');
      expect(failure.message).toContain(fixture.setup.accountName);
      expect(failure.message).not.toContain(wrongSecret);
      expect(fixture.setup.simulator.report({ requests: false }).leads.count).toBe(0);
    } finally {
      process.env[secretVariable] = realSecret;
      await badWorker.stop();
    }
  }, 60_000);

  it('holds a sync for an account the worker has no config for, its prepare step naming the account', async () => {
    const handle = await startSync(
      fixture.client,
      { account: 'no-such-account', source: { kind: 'csv', path: file } },
      { taskQueue: fixture.setup.taskQueue },
    );

    // A reload may add the account (accounts-reload.test.ts): the sync waits, saying why.
    const failure = await pendingFailure(handle);
    await handle.terminate('the test has seen it wait');

    expect(failure).toMatchObject({ activity: 'prepareSync', type: 'AccountUnknown', nonRetryable: false });
    expect(failure.message).toMatch(/unknown account 'no-such-account'/);
  }, 60_000);

  it('fails at once on a mapping that names a column the file lacks, before any vendor call', async () => {
    const before = fixture.setup.simulator.report({ requests: false }).totals.requests;
    const handle = await startSync(
      fixture.client,
      {
        account: fixture.setup.accountName,
        source: { kind: 'csv', path: file },
        mapping: { EmailAddress: 'email_address', FirstName: 'FirstName' },
      },
      { taskQueue: fixture.setup.taskQueue },
    );

    const failure = await failureOf(handle.result());

    expect(failure.type).toBe('ConfigError');
    expect(failure.message).toContain("no column 'email_address'");
    expect(fixture.setup.simulator.report({ requests: false }).totals.requests).toBe(before);
  }, 60_000);

  it('refuses a bad config file with exit code 2 and a message naming the file and the key', async () => {
    const config = join(fixture.setup.directory, 'bad.yaml');
    await writeFile(
      config,
      `accounts:\n  acme:\n    vendor: leadsquared\n    plan: platinum\n    baseUrl: ${fixture.setup.simulator.baseUrl}\n    credentials: { accessKeyEnv: A, secretKeyEnv: B }\n`,
    );

    const run = await leadsync(['sync', '--config', config, '--account', 'acme', '--file', file]);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(config);
    expect(run.stderr).toContain("accounts.acme.plan: unknown leadsquared plan 'platinum'");
  }, 60_000);

  it('refuses an unknown account with exit code 2 before starting anything', async () => {
    const run = await leadsync(['sync', '--config', fixture.setup.configPath, '--account', 'nope', '--file', file]);

    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/unknown account 'nope'/);
  }, 60_000);
});
