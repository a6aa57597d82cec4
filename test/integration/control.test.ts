import { describe, expect, it } from 'vitest';
import { startSync, syncHandle, syncProgress } from '../../src/api/syncs.js';
import type { SyncInput, SyncProgress, SyncResult } from '../../src/core/contract.js';
import { eventually, leadsync, temporal, temporalJson } from '../helpers/run-cli.js';
import { LEAD_HEADER, csvLines, leadRows, leadSquaredSyncFixture, writeCsv } from '../helpers/sync-harness.js';
import { uniqueName } from '../helpers/temporal.js';

/** What `temporal workflow describe -o json` prints, as far as these tests read it. */
interface Described {
  workflowExecutionInfo: {
    status: string;
    searchAttributes?: { indexedFields?: Record<string, { data: string }> };
  };
  pendingActivities?: { activityType?: { name?: string } }[];
  pendingWorkflowTask?: unknown;
}

/**
 * The Lite plan (a bulk call of 50 rows per 5 s) takes minutes over this file: every control acts on a sync that is
 * still running, whatever the machine's speed.
 */
const ROWS = 3_000;

describe('controlling a running sync from the temporal CLI and the leadsync CLI', () => {
  const fixture = leadSquaredSyncFixture({ plan: 'lite' });

  /** A fresh file of leads whose emails share a prefix, so the simulator's store can be counted per sync. */
  async function leadsFile(prefix: string): Promise<SyncInput> {
    const file = await writeCsv(
      fixture.setup.directory,
      `${prefix}.csv`,
      LEAD_HEADER,
      csvLines(leadRows(ROWS, prefix)),
    );
    return { account: fixture.setup.accountName, source: { kind: 'csv', path: file } };
  }

  function storedWithPrefix(prefix: string): number {
    return fixture.setup.simulator.leads().filter((lead) => lead.email.startsWith(prefix)).length;
  }

  const describeSync = (id: string) => temporalJson<Described>(['workflow', 'describe', '--workflow-id', id]);
  const queryProgress = async (id: string) =>
    firstResult<SyncProgress>(
      await temporalJson<unknown>(['workflow', 'query', '--workflow-id', id, '--name', 'progress']),
    );
  const update = async (id: string, name: string, ...input: string[]) =>
    firstResult<SyncProgress>(
      await temporalJson<unknown>([
        'workflow',
        'update',
        'execute',
        '--workflow-id',
        id,
        '--name',
        name,
        ...input.flatMap((i) => ['--input', i]),
      ]),
    );
  /** No chunk is running, and the workflow has taken in every chunk that finished: its counts are final for now. */
  const settled = async (id: string) => {
    const described = await describeSync(id);
    const chunks = (described.pendingActivities ?? []).filter((a) => a.activityType?.name === 'pushChunk');
    return chunks.length === 0 && !described.pendingWorkflowTask;
  };

  it('refuses a bad input given to `temporal workflow start`, naming the field', async () => {
    const id = uniqueName('bad-input');
    const started = await temporal([
      'workflow',
      'start',
      '--type',
      'leadSync',
      '--task-queue',
      fixture.setup.taskQueue,
      '--workflow-id',
      id,
      '--input',
      JSON.stringify({ account: fixture.setup.accountName, source: { kind: 'csv' }, share: 3 }),
    ]);
    expect(started.code, started.stderr).toBe(0);

    const result = await temporal(['workflow', 'result', '--workflow-id', id]);
    expect(result.code).not.toBe(0);
    const said = result.stdout + result.stderr;
    expect(said).toContain('invalid sync input');
    expect(said).toContain('source.path');
    expect(said).toContain('share: share is at most 1');
    expect((await describeSync(id)).workflowExecutionInfo.status).toBe('WORKFLOW_EXECUTION_STATUS_FAILED');
  });

  it('starts, follows, pauses, throttles, resumes and cancels a sync with the plain temporal CLI', async () => {
    const prefix = uniqueName('tcli');
    const id = uniqueName('tcli-sync');
    const started = await temporalJson<{ workflowId: string }>([
      'workflow',
      'start',
      '--type',
      'leadSync',
      '--task-queue',
      fixture.setup.taskQueue,
      '--workflow-id',
      id,
      '--input',
      JSON.stringify(await leadsFile(prefix)),
    ]);
    expect(started.workflowId).toBe(id);

    const running = await eventually(
      () => queryProgress(id),
      (p) => p.state === 'running' && p.counts.read > 0,
    );
    expect(running).toMatchObject({
      account: fixture.setup.accountName,
      vendor: 'leadsquared',
      totalRows: ROWS,
      share: 1,
    });
    const described = await describeSync(id);
    expect(described.workflowExecutionInfo.status).toBe('WORKFLOW_EXECUTION_STATUS_RUNNING');
    expect(searchAttributes(described)).toMatchObject({
      LeadsyncAccount: fixture.setup.accountName,
      LeadsyncVendor: 'leadsquared',
      LeadsyncState: 'running',
    });

    expect((await update(id, 'pause')).state).toBe('paused');
    // Chunks in flight finish; no new one starts while paused, so the counts then hold still.
    await eventually(() => settled(id), Boolean);
    const paused = await queryProgress(id);
    expect(paused.state).toBe('paused');
    expect(searchAttributes(await describeSync(id)).LeadsyncState).toBe('paused');

    expect((await update(id, 'throttle', '0.5')).share).toBe(0.5);
    const refused = await temporal(['workflow', 'update', 'execute', '--workflow-id', id, '--name', 'throttle']);
    expect(refused.code).not.toBe(0);
    const tooMuch = await temporal([
      'workflow',
      'update',
      'execute',
      '--workflow-id',
      id,
      '--name',
      'throttle',
      '--input',
      '2',
    ]);
    expect(tooMuch.code).not.toBe(0);
    expect(tooMuch.stdout + tooMuch.stderr).toContain('share is at most 1');
    expect(await settled(id)).toBe(true);
    expect((await queryProgress(id)).counts).toEqual(paused.counts);

    expect((await update(id, 'resume')).state).toBe('running');
    const resumed = await eventually(
      () => queryProgress(id),
      (p) => p.counts.read > paused.counts.read,
    );
    expect(resumed.share).toBe(0.5);

    const cancelled = await temporal(['workflow', 'cancel', '--workflow-id', id]);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    const result = await syncHandle(fixture.client, id).result();
    expectTrueCounts(result, storedWithPrefix(prefix));
    expect((await describeSync(id)).workflowExecutionInfo.status).toBe('WORKFLOW_EXECUTION_STATUS_COMPLETED');
  });

  it('pauses, throttles, resumes and cancels a sync with `leadsync <command> <id>`', async () => {
    const prefix = uniqueName('lcli');
    const handle = await startSync(fixture.client, await leadsFile(prefix), { taskQueue: fixture.setup.taskQueue });
    const id = handle.workflowId;
    const status = () => syncProgress(handle);
    const act = async (...args: string[]) => {
      const ran = await leadsync([...args, '--json']);
      expect(ran.code, ran.stderr).toBe(0);
      return JSON.parse(ran.stdout) as SyncProgress;
    };

    await eventually(status, (p) => p.state === 'running' && p.counts.read > 0);
    expect(await act('status', id)).toMatchObject({
      state: 'running',
      account: fixture.setup.accountName,
      totalRows: ROWS,
    });

    expect((await act('pause', id)).state).toBe('paused');
    await eventually(() => settled(id), Boolean);
    const paused = await status();
    expect(paused.state).toBe('paused');

    expect((await act('throttle', id, '0.25')).share).toBe(0.25);
    const refused = await leadsync(['throttle', id, '1.5']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('share is at most 1');
    expect((await status()).counts).toEqual(paused.counts);

    expect((await act('resume', id)).state).toBe('running');
    await eventually(status, (p) => p.counts.read > paused.counts.read);

    const cancel = await leadsync(['cancel', id, '--json']);
    expect(cancel.code, cancel.stderr).toBe(0);
    const result = await handle.result();
    expectTrueCounts(result, storedWithPrefix(prefix));
    expect((await status()).state).toBe('cancelled');
  });

  it("reckons a sync's expected finish in `leadsync status` with the other syncs running on its account", async () => {
    const start = async (prefix: string) =>
      startSync(fixture.client, await leadsFile(prefix), { taskQueue: fixture.setup.taskQueue });
    const [a, b] = await Promise.all([start(uniqueName('eta-a')), start(uniqueName('eta-b'))]);
    try {
      for (const handle of [a, b]) {
        await eventually(
          () => syncProgress(handle),
          (p) => p.state === 'running',
        );
      }

      const before = Date.now();
      const ran = await leadsync(['status', a.workflowId, '--json']);

      expect(ran.code, ran.stderr).toBe(0);
      const status = JSON.parse(ran.stdout) as SyncProgress;
      // b's rows share the plan with a's until both are through: alone, a's would take half as long.
      const aloneSeconds = (ROWS - status.counts.read) / status.ceilingRowsPerSecond!;
      expect((status.expectedFinishAt! - before) / 1000).toBeGreaterThan(1.8 * aloneSeconds);
    } finally {
      // Not the subject here: ended at once, without the grace a cancelled sync gives its chunks.
      await Promise.all([a, b].map((handle) => handle.terminate()));
    }
  });
});

/** `temporal workflow query` and `update execute` print the handler's return value in a field (or as a list). */
function firstResult<T>(printed: unknown): T {
  const value =
    printed && typeof printed === 'object' && !Array.isArray(printed)
      ? ((printed as Record<string, unknown>).queryResult ?? (printed as Record<string, unknown>).result)
      : printed;
  return (Array.isArray(value) ? value[0] : value) as T;
}

/** A cancelled sync stops short of the end, and every row it read is either stored by the vendor or rejected. */
function expectTrueCounts(result: SyncResult, stored: number): void {
  expect(result.cancelled).toBe(true);
  expect(result.read).toBeGreaterThan(0);
  expect(result.read).toBeLessThan(ROWS);
  expect(result.rejected).toBe(0);
  expect(result.accepted).toBe(result.read);
  expect(result.accepted).toBe(stored);
}

/** The CLI prints search attributes as payloads (base64 JSON); a person reads them decoded, in the Web UI. */
function searchAttributes(described: Described): Record<string, unknown> {
  const fields = described.workflowExecutionInfo.searchAttributes?.indexedFields ?? {};
  return Object.fromEntries(
    Object.entries(fields).map(([name, payload]) => [
      name,
      JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8')) as unknown,
    ]),
  );
}
