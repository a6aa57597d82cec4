import { execFileSync } from 'node:child_process';
import { appendFile, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { pauseSync, resumeSync, startSync, syncProgress, type StartedSync } from '../../src/api/syncs.js';
import { laneTaskQueue } from '../../src/core/task-queues.js';
import type { SyncInput, SyncResult } from '../../src/core/contract.js';
import { syncFileName, syncRejectsDirectory } from '../../src/rejects/files.js';
import { eventually } from '../helpers/run-cli.js';
import { sourceBoundaryFixture } from '../helpers/source-boundary.js';
import { uniqueName } from '../helpers/temporal.js';
import { pendingFailure, workflowFailure } from '../helpers/workflow-failure.js';

/**
 * A workflow input comes from whoever can write to the namespace. Each hostile input here must be refused with a
 * message that says what is allowed, before anything outside the config's boundary is opened, removed or sent.
 */
describe('the trust boundary', () => {
  const boundary = sourceBoundaryFixture({ prefix: 'boundary', tables: (listed) => [`public.${listed}`] });
  const { name, account, taskQueue } = boundary;
  let outside: string;

  beforeAll(async () => {
    outside = join(boundary.directory, 'outside');
    await mkdir(outside);
    await writeFile(join(outside, 'secret.csv'), `EmailAddress,TOPSECRETCOLUMN\nsecret@example.com,TOPSECRETVALUE\n`);
    await boundary.unlisted.upsert(1, 3, '2024-01-01T00:00:00Z', 'v1');
  });

  const requests = () => boundary.leadsquared.report({ requests: false }).totals.requests;

  const leadsFile = async (fileName: string, lines: string[]): Promise<string> => {
    const path = join(boundary.data, fileName);
    await writeFile(path, ['EmailAddress,FirstName', ...lines, ''].join('\n'));
    return path;
  };

  const start = (input: SyncInput, workflowId?: string): Promise<StartedSync> =>
    startSync(boundary.client, input, { taskQueue, ...(workflowId ? { workflowId } : {}) });

  it('refuses files outside the roots, through .. or links, and tables the connection does not list, echoing nothing', async () => {
    await symlink(join(outside, 'secret.csv'), join(boundary.data, 'link.csv'));
    await symlink(outside, join(boundary.data, 'linked-directory'));
    execFileSync('mkfifo', [join(boundary.data, 'fifo.csv')]);
    await writeFile(join(boundary.data, '.env'), 'TOPSECRETNAME=TOPSECRETVALUE\n');
    const before = requests();
    const fileRefusal = /source file refused: it is not under a directory this worker may read sources from \(.*data;/;
    const tableRefusal = new RegExp(
      `connection 'testdb' lets syncs read only public\\.${boundary.listed.name} \\(sources`,
    );
    const cases: [string, SyncInput['source'], RegExp][] = [
      ['the environment of the worker', { kind: 'csv', path: '/proc/self/environ' }, fileRefusal],
      [
        'a path climbing out with ..',
        { kind: 'csv', path: join(boundary.data, '..', 'outside', 'secret.csv') },
        fileRefusal,
      ],
      ['a link to a file outside', { kind: 'csv', path: join(boundary.data, 'link.csv') }, fileRefusal],
      [
        'a file under a linked directory',
        { kind: 'ndjson', path: join(boundary.data, 'linked-directory', 'secret.csv') },
        fileRefusal,
      ],
      ['a hidden file under a root', { kind: 'csv', path: join(boundary.data, '.env') }, fileRefusal],
      [
        'a FIFO that would block the read',
        { kind: 'csv', path: join(boundary.data, 'fifo.csv') },
        /is not a regular file/,
      ],
      [
        'an unlisted table',
        { kind: 'postgres', connection: 'testdb', table: boundary.unlisted.name, key: 'id' },
        tableRefusal,
      ],
      [
        'an unlisted schema-qualified table',
        { kind: 'postgres', connection: 'testdb', table: 'pg_catalog.pg_authid', key: 'oid' },
        tableRefusal,
      ],
    ];
    for (const [what, source, message] of cases) {
      const failure = await workflowFailure((await start({ account, source })).result());
      expect({ what, ...failure }).toMatchObject({
        what,
        type: 'ConfigError',
        message: expect.stringMatching(message),
      });
      expect(failure.message).not.toMatch(/TOPSECRET|PATH=|LEADSYNC|postgres:\/\//);
    }
    expect(requests()).toBe(before);

    // Inside the boundary the same worker reads a listed table, by its unqualified name too, and a file.
    const table = await start({
      account,
      source: { kind: 'postgres', connection: 'testdb', table: boundary.listed.name, key: 'id' },
      mapping: { EmailAddress: 'email', FirstName: 'first_name' },
    });
    expect(await table.result()).toMatchObject({ read: 3, accepted: 3 });
    const file = await leadsFile('inside.csv', [`inside-${name}@example.com,Inside`]);
    expect(await (await start({ account, source: { kind: 'csv', path: file } })).result()).toMatchObject({
      accepted: 1,
    });
  });

  it('names an account or connection by own property only: constructor is no account', async () => {
    const file = await leadsFile('own.csv', [`own-${name}@example.com,Own`]);
    // An account the config lacks is waited for (a reload may add it): the sync says so while it waits.
    const waiting = await start({ account: 'constructor', source: { kind: 'csv', path: file } });
    const unknown = await pendingFailure(waiting);
    await waiting.terminate('the test has seen it wait');
    expect(unknown).toMatchObject({
      type: 'AccountUnknown',
      message: expect.stringMatching(/unknown account 'constructor'/),
    });
    const connection = { kind: 'postgres', connection: 'constructor', table: boundary.listed.name, key: 'id' } as const;
    const failure = await workflowFailure((await start({ account, source: connection })).result());
    expect(failure).toMatchObject({
      type: 'ConfigError',
      message: expect.stringMatching(/no PostgreSQL connection named 'constructor'/),
    });
  });

  it('encodes every sync id into its own rejects file: . and .. remove nothing, and look-alike ids never share one', async () => {
    const sentinel = join(boundary.directory, 'sentinel');
    await writeFile(sentinel, 'the parent of the rejects directory');
    await mkdir(boundary.rejectsDirectory, { recursive: true });
    await writeFile(join(boundary.rejectsDirectory, 'another-sync.rejects.csv'), 'row,field,reason\n');
    const ids = ['..', '.', `${name}/weekly`, `${name}:weekly`, `${name}_weekly`];
    const results: SyncResult[] = [];
    const runs: string[] = [];
    for (const [i, id] of ids.entries()) {
      // The bad row is row i + 1: each report must hold its own sync's row.
      const lines = ids.map((_, k) => (k === i ? `not-an-email-${k},Bad` : `ids-${i}-${k}-${name}@example.com,Good`));
      const handle = await start(
        { account, source: { kind: 'csv', path: await leadsFile(`ids-${i}.csv`, lines) } },
        id,
      );
      runs.push(handle.firstExecutionRunId);
      results.push(await handle.result());
    }

    const reports = results.map((result) => result.rejectsFile!);
    expect(new Set(reports).size).toBe(ids.length);
    for (const [i, report] of reports.entries()) {
      expect(dirname(report)).toBe(boundary.rejectsDirectory);
      expect(report).toBe(join(boundary.rejectsDirectory, `${syncFileName(ids[i]!)}.${runs[i]}.rejects.csv`));
      expect((await readFile(report, 'utf8')).split('\n')[1]).toMatch(new RegExp(`^${i + 1},EmailAddress,`));
    }
    expect(await readFile(sentinel, 'utf8')).toBe('the parent of the rejects directory');
    expect((await readdir(boundary.rejectsDirectory)).filter((f) => !f.endsWith('.tmp'))).toContain(
      'another-sync.rejects.csv',
    );
  });

  it('takes where rejects go from the config, never from a forged carried argument, and checks every argument', async () => {
    const file = await leadsFile('carried.csv', [`carried-${name}@example.com,Ok`, 'not-an-email,Bad']);
    const evil = join(boundary.directory, 'evil');
    const carried = (taskQueueOfLane: string) => ({
      plan: {
        vendor: 'leadsquared',
        planName: 'enterprise',
        lanes: [{ lane: 'general', taskQueue: taskQueueOfLane, rowsPerCall: 1, callsPerSecond: 4 }],
        totalRows: 2,
        rowsPerSecond: 4,
        rejectsDirectory: evil,
      },
      cursor: { position: null, nextRow: 1 },
      scanned: false,
      landed: { nextRow: 1, position: null, ahead: [] },
      pending: {},
      counts: { read: 0, accepted: 0, rejected: 0, retried: 0, calls: 0 },
      startedAt: Date.now(),
      run: 0,
      paused: false,
    });
    const raw = (workflowType: string, args: unknown[]) =>
      boundary.client.workflow
        .start(workflowType, { taskQueue, workflowId: uniqueName('raw'), args })
        .then((h) => h.result());
    const input = { account, source: { kind: 'csv', path: file } };

    const forged = (await raw('leadSync', [
      input,
      carried(laneTaskQueue('leadsquared', account, 'general')),
    ])) as SyncResult;
    expect(forged).toMatchObject({ read: 2, accepted: 1, rejected: 1 });
    expect(dirname(forged.rejectsFile!)).toBe(boundary.rejectsDirectory);
    await expect(stat(evil)).rejects.toThrow(/ENOENT/);

    // A lane moved to another queue (one without the lane's rate limit) runs nowhere.
    const moved = await workflowFailure(raw('leadSync', [input, carried(taskQueue)]));
    expect(moved.message).toMatch(/runs only on task queue leadsync\.leadsquared\./);

    const invalid: [string, unknown[], RegExp][] = [
      ['leadSync', [input, { plan: 'anywhere' }], /invalid carried: plan: /],
      ['leadSync', [input, null, 0], /invalid chunksPerRun: /],
      ['leadSync', [input, null, 'many'], /invalid chunksPerRun: /],
      ['scheduledSync', [{ account: 7 }], /invalid sync input: account: /],
      ['leadsThenActivities', [input, { account }], /invalid activities input: source: /],
      [
        'accountGovernor',
        [{ account: `${name}-gov`, carried: { ledgers: { constructor: { slots: [], pausedUntil: 0 } } } }],
        /invalid governor input: carried/,
      ],
    ];
    for (const [type, args, message] of invalid) {
      const failure = await workflowFailure(raw(type, args));
      expect({ workflowType: type, ...failure }).toMatchObject({
        workflowType: type,
        type: 'ConfigError',
        message: expect.stringMatching(message),
      });
    }
  });

  it("drops a governor's release or move signal that does not read as one, and goes on granting slots", async () => {
    const governor = await boundary.client.workflow.start('accountGovernor', {
      taskQueue,
      workflowId: uniqueName('governor'),
      args: [{ account: `${name}-released` }],
    });
    const reserve = {
      spends: [{ ledger: 'general', lane: 'general', windows: [{ limit: 5, seconds: 1 }] }],
      calls: 1,
      marginMs: 0,
    };
    const first = await governor.executeUpdate<{ grant: string; slots: number[] }, [typeof reserve]>('reserve', {
      args: [reserve],
    });
    const [slot] = first.slots as [number];

    for (const release of [{ ledgers: ['__proto__'], slots: [1] }, { ledgers: 5, slots: [] }, 'anything']) {
      await governor.signal('release', release);
    }
    for (const move of [
      { grant: first.grant, moves: [{ from: slot, to: slot - 1 }] },
      { grant: first.grant, moves: [{ from: slot }] },
      { grant: first.grant, moves: [{ from: slot, to: slot + 24 * 3600 * 1000 }] },
      { ledgers: ['general'], moves: [{ from: slot, to: slot + 700 }] },
      'anything',
    ]) {
      await governor.signal('move', move);
    }
    // A move follows its call's answer: sent once its new time has come.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, slot + 1_000 - Date.now())));
    await governor.signal('move', { grant: first.grant, moves: [{ from: slot, to: slot + 700 }] });
    const granted = await Promise.race([
      governor.executeUpdate<{ slots: number[] }, [typeof reserve]>('reserve', { args: [reserve] }),
      new Promise<'no answer'>((done) => setTimeout(() => done('no answer'), 30_000)),
    ]);

    expect(granted).toMatchObject({ slots: [expect.any(Number)] });
    const state = await governor.query<{ ledgers: Record<string, { slots: number[] }> }>('state');
    expect(state.ledgers.general!.slots).toContain(slot + 700);
    expect(state.ledgers.general!.slots).not.toContain(slot);
    const history = await governor.fetchHistory();
    expect(history.events?.filter((event) => event.workflowTaskFailedEventAttributes)).toEqual([]);
    await governor.terminate('test done');
  });

  /** Starts a sync paused, and waits until prepare has made its plan: nothing of the source was sent yet. */
  const preparedAndPaused = async (input: SyncInput): Promise<StartedSync> => {
    const handle = await start(input);
    await pauseSync(handle);
    await eventually(
      () => syncProgress(handle),
      (progress) => progress.state === 'paused' && progress.vendor !== undefined,
      { timeoutMs: 60_000 },
    );
    return handle;
  };

  it('fails a sync whose file changes under it, naming the file, and sends nothing of the new version', async () => {
    const lines = Array.from({ length: 20 }, (_, i) => `pinned-${i}-${name}@example.com,Before${i}`);
    const file = await leadsFile('pinned.csv', lines);
    const handle = await preparedAndPaused({ account, source: { kind: 'csv', path: file } });

    await appendFile(file, `pinned-late-${name}@example.com,After\n`);
    await resumeSync(handle);

    const failure = await workflowFailure(handle.result());
    expect(failure.type).toBe('ConfigError');
    expect(failure.message).toContain(`source file ${file} changed during the sync`);
    expect(boundary.leadsquared.leads().filter((lead) => lead.email.startsWith('pinned-'))).toHaveLength(0);
  });

  it('fails a sync whose rejects cannot be written, once, with the reason, instead of resending its calls', async () => {
    const lines = [`unwritable-${name}@example.com,Ok`, 'not-an-email,Bad'];
    const handle = await preparedAndPaused({
      account,
      source: { kind: 'csv', path: await leadsFile('unwritable.csv', lines) },
    });
    // Where the first chunk's rejects file goes is now a directory: writing it fails, as on a full disk.
    const owner = { syncId: handle.workflowId, runId: handle.firstExecutionRunId };
    await mkdir(join(syncRejectsDirectory(boundary.rejectsDirectory, owner), '1.ndjson', 'in-the-way'), {
      recursive: true,
    });
    await resumeSync(handle);

    const failure = await workflowFailure(handle.result());
    expect(failure.type).toBe('ConfigError');
    expect(failure.message).toMatch(/the rejects of the chunk at row 1 cannot be written to .*: E[A-Z]+: .*free space/);
    // One attempt of the chunk, not retried: its calls were not sent again.
    const history = await handle.fetchHistory();
    const attempts = (history.events ?? []).flatMap((event) => event.activityTaskStartedEventAttributes?.attempt ?? []);
    expect(attempts.length).toBeGreaterThan(0);
    expect(Math.max(...attempts)).toBe(1);
    expect(boundary.leadsquared.leads().filter((lead) => lead.email === `unwritable-${name}@example.com`)).toHaveLength(
      1,
    );
  });
});
