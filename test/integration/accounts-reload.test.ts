import type { ChildProcess } from 'node:child_process';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Client, Connection } from '@temporalio/client';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncProgress } from '../../src/api/syncs.js';
import type { TaskQueueMode } from '../../src/core/task-queues.js';
import { eventually } from '../helpers/run-cli.js';
import { pendingFailure, workflowFailure } from '../helpers/workflow-failure.js';
import {
  leadRows,
  leadSquaredAccount,
  spawnCliWorker,
  startLeadsSync,
  stopChild,
  testClient,
  type LeadRow,
  type LeadSquaredSetup,
} from '../helpers/sync-harness.js';

/** What the issue asks of an account added while workers run: a sync within 10 s of the write, no restart. */
const ADDED_ACCOUNT_SYNCS_WITHIN_MS = 10_000;
const ROWS = 20;
/** Tens of seconds at Enterprise: the account is removed while the sync is well under way. */
const REMOVED_ROWS = 600;

interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

/** The JSON lines a `leadsync worker` child writes to stderr, as they come. */
function logLines(child: ChildProcess): LogLine[] {
  const lines: LogLine[] = [];
  let partial = '';
  child.stderr!.on('data', (data: Buffer) => {
    const text = partial + data.toString('utf8');
    const complete = text.split('\n');
    partial = complete.pop()!;
    for (const line of complete) {
      try {
        lines.push(JSON.parse(line) as LogLine);
      } catch {
        lines.push({ level: 'raw', msg: line });
      }
    }
  });
  return lines;
}

/** Saves a file as an editor does: a new (hidden) file renamed over the old one, a new inode. */
async function saveAs(path: string, content: unknown): Promise<number> {
  const swap = join(dirname(path), `.${basename(path)}.swp`);
  await writeFile(swap, toYaml(content));
  await rename(swap, path);
  return Date.now();
}

/** What a file's tests share: a worker process on `running`'s config, an account `added` it lacks, a client. */
interface ReloadFixture {
  running: LeadSquaredSetup;
  /** Its keys are in the worker's environment from the start (leadSquaredAccount sets them): only the config lacks it. */
  added: LeadSquaredSetup;
  /** The config file the worker started with. */
  file: Record<string, unknown>;
  child: ChildProcess;
  logs: LogLine[];
  client: Client;
}

/**
 * Sets up (beforeAll) a `leadsync worker` child on `running`'s config with the keys `more` adds, once it polls, and
 * tears it down (afterAll). Read the fields inside tests.
 */
function reloadFixture(more: (running: LeadSquaredSetup) => Promise<Record<string, unknown>>): ReloadFixture {
  const fixture = {} as ReloadFixture;
  let connection: Connection | undefined;
  beforeAll(async () => {
    fixture.running = await leadSquaredAccount({ plan: 'enterprise' });
    fixture.added = await leadSquaredAccount({ plan: 'enterprise' });
    const written = parseYaml(await readFile(fixture.running.configPath, 'utf8')) as object;
    fixture.file = { ...written, ...(await more(fixture.running)) };
    await saveAs(fixture.running.configPath, fixture.file);
    ({ client: fixture.client, connection } = await testClient());
    fixture.child = spawnCliWorker(fixture.running, fixture.added.env);
    fixture.logs = logLines(fixture.child);
    await eventually(
      async () => fixture.logs.some((line) => line.msg.startsWith('reloads its accounts')),
      (started) => started,
      { timeoutMs: 120_000 },
    );
  });
  afterAll(async () => {
    if (fixture.child) await stopChild(fixture.child);
    await connection?.close();
    await fixture.running?.simulator.stop();
    await fixture.added?.simulator.stop();
  });
  return fixture;
}

/** Starts a sync of `rows` into `account` from a file where `worker`'s config lets it read, on its queue. */
function startSyncInto(client: Client, worker: LeadSquaredSetup, account: LeadSquaredSetup, rows: LeadRow[]) {
  return startLeadsSync(client, { ...account, directory: worker.directory, taskQueue: worker.taskQueue }, rows);
}

async function accountsOf(setup: LeadSquaredSetup): Promise<Record<string, unknown>> {
  return (parseYaml(await readFile(setup.configPath, 'utf8')) as { accounts: Record<string, unknown> }).accounts;
}

describe.each<TaskQueueMode>(['shared', 'per-account'])(
  'a `leadsync worker` with %s task queues, its config changed while it runs',
  (taskQueues) => {
    const fixture = reloadFixture(async () => ({ worker: { taskQueues } }));
    const save = (config: unknown) => saveAs(fixture.running.configPath, config);

    it('holds a sync for an account it does not know, saying so, and runs it within 10 s of the account being added', async () => {
      const { running, added, file, logs, client } = fixture;
      const rows = leadRows(ROWS);
      const handle = await startSyncInto(client, running, added, rows);

      // It waits: the worker says so, and the sync's prepare step carries the reason while it retries in place.
      await eventually(
        async () => logs.filter((line) => line.msg.includes(`waits for account '${added.accountName}'`)),
        (waiting) => waiting.some((line) => Number(line.attempt) >= 2),
        { timeoutMs: 30_000 },
      );
      expect(await pendingFailure(handle)).toMatchObject({
        activity: 'prepareSync',
        type: 'AccountUnknown',
        message: expect.stringContaining(`unknown account '${added.accountName}' in ${running.configPath}`),
        nonRetryable: false,
      });

      const accounts = { ...(await accountsOf(running)), ...(await accountsOf(added)) };
      const written = await save({ ...file, accounts });
      const result = await handle.result();
      const landedAfterMs = Date.now() - written;

      expect(result).toMatchObject({ totalRows: ROWS, accepted: ROWS, rejected: 0 });
      expect(added.simulator.report({ requests: false }).leads.count).toBe(ROWS);
      expect(landedAfterMs).toBeLessThan(ADDED_ACCOUNT_SYNCS_WITHIN_MS);
      const reloaded = logs.find((line) => line.msg === 'config reloaded');
      expect(reloaded).toMatchObject({ added: [added.accountName], changed: [], removed: [] });
      console.info(
        `${taskQueues}: the added account's sync of ${ROWS} rows landed ${landedAfterMs} ms after the write`,
      );
    });

    it('keeps its running config when the file does not parse, naming the file and the key, and syncs on', async () => {
      const { running, file, child, logs, client } = fixture;
      const accounts = await accountsOf(running);
      const broken = { ...accounts, [running.accountName]: { ...accounts[running.accountName]!, timeoutMs: -1 } };
      await writeFile(running.configPath, toYaml({ ...file, accounts: broken }));

      const refusal = await eventually(
        async () => logs.find((line) => line.msg.startsWith('config file not reloaded')),
        (line) => line !== undefined,
        { timeoutMs: 30_000 },
      );
      expect(refusal).toMatchObject({ level: 'error', config: running.configPath });
      expect(refusal!.error).toContain(`invalid config file ${running.configPath}`);
      expect(refusal!.error).toContain(`accounts.${running.accountName}.timeoutMs`);

      expect(child.exitCode).toBeNull();
      const rows = leadRows(ROWS);
      const handle = await startLeadsSync(client, running, rows);
      expect(await handle.result()).toMatchObject({ totalRows: ROWS, accepted: ROWS, rejected: 0 });
    });

    it('fails a running sync of an account removed from the file, naming it, with no chunk sent half-way', async () => {
      const { running, added, file, client } = fixture;
      const handle = await startSyncInto(client, running, added, leadRows(REMOVED_ROWS));
      await eventually(
        () => syncProgress(handle),
        (progress) => progress.counts.accepted > 0,
        { timeoutMs: 60_000 },
      );

      // The accounts as they stood before the file was broken, less the one the sync writes to.
      const accounts = await accountsOf(running);
      delete accounts[added.accountName];
      delete (accounts[running.accountName] as { timeoutMs?: number }).timeoutMs;
      await save({ ...file, accounts });
      const failure = await workflowFailure(handle.result());

      expect(failure.type).toBe('ConfigError');
      expect(failure.message).toContain(
        `account '${added.accountName}' was removed from ${running.configPath} by a config reload while this sync used it`,
      );
      // Chunks running at the reload finished with the account they started with; none after it sent a row: what the
      // vendor holds is exactly what the sync's finished chunks counted.
      const { counts } = await syncProgress(handle);
      const stored = added.simulator.report({ requests: false }).leads.count - ROWS;
      expect(counts.accepted).toBeGreaterThan(0);
      expect(counts.accepted).toBeLessThan(REMOVED_ROWS);
      expect(stored).toBe(counts.accepted);
      console.info(`${taskQueues}: the removed account's sync stopped at ${counts.accepted} of ${REMOVED_ROWS} rows`);
    });

    it('reloads on SIGHUP, and goes on running', async () => {
      const { child, logs } = fixture;
      const reloads = () => logs.filter((line) => line.msg === 'config reloaded').length;
      const before = reloads();

      child.kill('SIGHUP');

      await eventually(
        async () => reloads(),
        (count) => count === before + 1,
        { timeoutMs: 10_000 },
      );
      expect(logs.findLast((line) => line.msg === 'config reloaded')).toMatchObject({
        added: [],
        changed: [],
        removed: [],
      });
      expect(child.exitCode).toBeNull();
      expect(child.signalCode).toBeNull();
    });
  },
);

describe('a `leadsync worker` with a directory of account files', () => {
  const fixture = reloadFixture(async (running) => {
    await mkdir(join(running.directory, 'accounts.d'));
    return { accountFiles: 'accounts.d', worker: { taskQueues: 'shared' } };
  });

  it('runs a waiting sync within 10 s of its account file being saved into the directory, its keys in secret files', async () => {
    const { running, added, client } = fixture;
    const handle = await startSyncInto(client, running, added, leadRows(ROWS));
    expect(await pendingFailure(handle)).toMatchObject({ type: 'AccountUnknown' });
    // A new client account as a platform adds one: its keys mounted as files, no variable the worker started with.
    const secrets = join(running.directory, 'secrets');
    await mkdir(secrets);
    const [accessKey, secretKey] = Object.values(added.env);
    await writeFile(join(secrets, 'access-key'), `${accessKey}\n`);
    await writeFile(join(secrets, 'secret-key'), `${secretKey}\n`);
    const account = (await accountsOf(added))[added.accountName] as Record<string, unknown>;
    const credentials = { accessKeyFile: join(secrets, 'access-key'), secretKeyFile: join(secrets, 'secret-key') };

    const written = await saveAs(join(running.directory, 'accounts.d', `${added.accountName}.yaml`), {
      accounts: { [added.accountName]: { ...account, credentials } },
    });
    const result = await handle.result();
    const landedAfterMs = Date.now() - written;

    expect(result).toMatchObject({ totalRows: ROWS, accepted: ROWS, rejected: 0 });
    expect(landedAfterMs).toBeLessThan(ADDED_ACCOUNT_SYNCS_WITHIN_MS);
    console.info(`account files: the added account's sync of ${ROWS} rows landed ${landedAfterMs} ms after the write`);
  });
});
