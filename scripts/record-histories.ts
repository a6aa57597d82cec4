/**
 * Records the workflow histories the replay test replays: run it after a deliberate, versioned change to a
 * workflow, and commit the new files beside the old ones (old histories must keep replaying: before recording again,
 * rename the files it writes to `<name>-before-<change>.json`).
 *
 *   npx tsx scripts/record-histories.ts
 *
 * One LeadSquared account, configured as Enterprise against a vendor that enforces Pro (5 calls per 5 s), so calls
 * are refused for rate (429) as a real account meets it. On it, in turn:
 * - a sync crossing continue-as-new, whose chunks meet 429s, with a row the field check rejects (a bad email) and a
 *   row the vendor refuses (a phone another lead has; Phone is unique by default);
 * - a sync paused while its chunks wait for their slots (the chunks fail SyncPaused, and give any slots they held
 *   ahead back to the governor with a `release` signal), then resumed;
 * - a sync whose key is revoked mid-sync, which ends Failed naming the account;
 * - a sync cancelled mid-way, which lets its chunks in flight finish and ends with its counts;
 * - leadsThenActivities and scheduledSync (started directly, as a schedule would), each with its leadSync child;
 * - the account governor that served them all.
 * Then a second account, on a vendor that answers one call in twenty 1.5 s late, whose governor is started to
 * continue-as-new every 300 events: its first run holds `move` signals (the late answers' slots) and a continue-as-new.
 * The chunks of the rate-limited sync send calls refused for rate again in place (a chunk result with retries at its
 * first attempt).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { cancelSync, pauseSync, resumeSync, startSync, syncProgress, type SyncHandle } from '../src/api/syncs.js';
import type { SyncInput } from '../src/core/contract.js';
import { ensureTemporalCli } from '../tools/temporal/cli-build.js';
import { BenchTemporal, writeLeadsCsv } from '../bench/harness.js';
import { startLeadSquaredSimulator } from '../src/vendors/leadsquared/simulator/server.js';
import { governorWorkflowId } from '../src/core/governor/protocol.js';

const OUT = join(import.meta.dirname, '..', 'test', 'fixtures', 'histories');
const ACCOUNT = 'recorded';
const LATE_ACCOUNT = 'recorded-late';
const KEYS = { accessKey: 'rec-access', secretKey: 'rec-secret' };

/** The history in the proto JSON that `temporal workflow show` writes and the replayer reads. */
async function showHistory(temporal: BenchTemporal, workflowId: string, runId?: string): Promise<string> {
  const args = ['workflow', 'show', '--address', temporal.endpoint.address, '--workflow-id', workflowId];
  if (runId) args.push('--run-id', runId);
  const { stdout } = await promisify(execFile)((await ensureTemporalCli()).path, [...args, '--output', 'json'], {
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

async function record(temporal: BenchTemporal, name: string, workflowId: string, runId?: string): Promise<void> {
  await writeFile(join(OUT, `${name}.json`), await showHistory(temporal, workflowId, runId));
  process.stdout.write(`recorded ${name}.json\n`);
}

/** A CSV under the system's temporary directory, where the bench's config lets sources be read from. */
async function writeCsv(name: string, header: string, lines: string[]): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), 'leadsync-recorded-')), name);
  await writeFile(path, [header, ...lines].join('\n') + '\n');
  return path;
}

/** Waits until `check` holds, polling: the recorder follows a live sync, so it has no event to wait on. */
async function until(check: () => Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(250);
  }
}

async function pendingChunks(handle: WorkflowHandle): Promise<number> {
  return ((await handle.describe()).raw.pendingActivities ?? []).filter((a) => a.activityType?.name === 'pushChunk')
    .length;
}

/** 600 leads with a phone each: row 7's email is not an email, row 500 has row 10's phone. */
async function leadsWithRejects(): Promise<string> {
  const lines = Array.from({ length: 600 }, (_, index) => {
    const i = index + 1;
    const email = i === 7 ? 'not-an-email' : `rate-${i}@example.com`;
    const phone = `90000${String(i === 500 ? 10 : i).padStart(5, '0')}`;
    return `${email},First${i},Last${i},${phone}`;
  });
  return writeCsv('leads.csv', 'EmailAddress,FirstName,LastName,Phone', lines);
}

async function recordRateLimitedSync(temporal: BenchTemporal, client: Client, taskQueue: string): Promise<void> {
  const input: SyncInput = { account: ACCOUNT, source: { kind: 'csv', path: await leadsWithRejects() } };
  // Two chunks a run (at least 4 a lane are in flight at once, about 300 rows at Enterprise's pace), so it continues as
  // new several times like a long sync's runs do.
  const handle = await client.workflow.start('leadSync', {
    taskQueue,
    workflowId: `recorded-rate-limited-${Date.now()}`,
    args: [input, null, 2],
  });
  await handle.result();
  if ((await handle.describe()).runId === handle.firstExecutionRunId) {
    throw new Error('the rate-limited sync ended in its first run: nothing crossed continue-as-new to record');
  }
  // The first run holds the prepare (the field check's reject) and the first 429s (a general-lane chunk of single
  // upserts at Enterprise's pace meets Pro's limit at once); the last run the rejects report and the completion.
  await record(temporal, 'lead-sync-rate-limited-first-run', handle.workflowId, handle.firstExecutionRunId);
  await record(temporal, 'lead-sync-rate-limited-last-run', handle.workflowId);
}

async function recordPausedSync(temporal: BenchTemporal, client: Client, taskQueue: string): Promise<void> {
  const handle = await startSync(
    client,
    { account: ACCOUNT, source: { kind: 'csv', path: await writeLeadsCsv(300, 'paused') } },
    { taskQueue, workflowId: `recorded-paused-${Date.now()}` },
  );
  await until(async () => (await syncProgress(handle)).counts.read > 0, 'the first rows to land');
  await until(async () => (await pendingChunks(handle)) > 1, 'chunks waiting for their slots');
  await pauseSync(handle);
  await until(async () => (await pendingChunks(handle)) === 0, 'the paused chunks to stop');
  await resumeSync(handle);
  await handle.result();
  await record(temporal, 'lead-sync-paused', handle.workflowId);
}

async function recordFailedSync(
  temporal: BenchTemporal,
  client: Client,
  taskQueue: string,
  revokeKey: (revoked: boolean) => void,
): Promise<void> {
  const handle: SyncHandle = await startSync(
    client,
    { account: ACCOUNT, source: { kind: 'csv', path: await writeLeadsCsv(2_000, 'revoked') } },
    { taskQueue, workflowId: `recorded-key-revoked-${Date.now()}` },
  );
  await until(async () => (await syncProgress(handle)).counts.read >= 20, 'the first rows to land');
  revokeKey(true);
  const failure = await handle.result().then(
    () => undefined,
    (err: unknown) => err,
  );
  revokeKey(false);
  if (!failure) throw new Error('the sync whose key was revoked completed: nothing failed to record');
  await record(temporal, 'lead-sync-failed-key-revoked', handle.workflowId);
}

async function recordCancelledSync(temporal: BenchTemporal, client: Client, taskQueue: string): Promise<void> {
  const handle = await startSync(
    client,
    { account: ACCOUNT, source: { kind: 'csv', path: await writeLeadsCsv(600, 'cancelled') } },
    { taskQueue, workflowId: `recorded-cancelled-${Date.now()}` },
  );
  await until(async () => (await syncProgress(handle)).counts.read > 0, 'the first rows to land');
  await cancelSync(handle);
  const result = await handle.result();
  if (!result.cancelled) throw new Error('the cancelled sync ended without saying so: nothing to record');
  await record(temporal, 'lead-sync-cancelled', handle.workflowId);
}

/** A sync on an account whose vendor answers late now and then, and its governor's first run, which continues as new. */
async function recordMovedAndContinuedGovernor(temporal: BenchTemporal): Promise<void> {
  const late = await startLeadSquaredSimulator({
    plan: 'enterprise',
    ...KEYS,
    faults: { slowMs: 1_500, slowRate: 0.05, seed: 19 },
  });
  try {
    const governor = await temporal.client.workflow.start('accountGovernor', {
      taskQueue: 'bench-recorded-late',
      workflowId: governorWorkflowId(LATE_ACCOUNT),
      args: [{ account: LATE_ACCOUNT, eventsPerRun: 300 }],
    });
    await temporal.withWorker(
      { name: LATE_ACCOUNT, settings: recordedAccount(late.baseUrl) },
      { REC_AK: KEYS.accessKey, REC_SK: KEYS.secretKey },
      async (taskQueue) => {
        const handle = await startSync(
          temporal.client,
          { account: LATE_ACCOUNT, source: { kind: 'csv', path: await writeLeadsCsv(1_500, 'late') } },
          { taskQueue, workflowId: `recorded-late-${Date.now()}` },
        );
        await handle.result();
      },
    );
    await governor.terminate('recorded');
    await record(temporal, 'account-governor-moved-then-continued', governor.workflowId, governor.firstExecutionRunId);
  } finally {
    await late.stop();
  }
}

function recordedAccount(baseUrl: string): Record<string, unknown> {
  return {
    vendor: 'leadsquared',
    plan: 'enterprise',
    baseUrl,
    credentials: { accessKeyEnv: 'REC_AK', secretKeyEnv: 'REC_SK' },
  };
}

async function recordLeadsThenActivities(temporal: BenchTemporal, client: Client, taskQueue: string): Promise<void> {
  const emails = Array.from({ length: 10 }, (_, i) => `both-${i + 1}@example.com`);
  const leads = await writeCsv(
    'leads.csv',
    'EmailAddress,FirstName,LastName',
    emails.map((email, i) => `${email},First${i},Last${i}`),
  );
  const activities = await writeCsv(
    'activities.csv',
    'EmailAddress,ActivityEvent,ActivityNote,ActivityDateTime',
    emails.map((email, i) => `${email},201,visit ${i},2024-06-01 09:15:00`),
  );
  // Named as its history: the children's ids derive from it, and the replay test replays under the file's name.
  const workflowId = 'leads-then-activities';
  const handle = await client.workflow.start('leadsThenActivities', {
    taskQueue,
    workflowId,
    args: [
      { account: ACCOUNT, source: { kind: 'csv', path: leads } },
      { account: ACCOUNT, source: { kind: 'csv', path: activities } },
    ],
  });
  await handle.result();
  await record(temporal, 'leads-then-activities', workflowId);
}

async function recordScheduledSync(temporal: BenchTemporal, client: Client, taskQueue: string): Promise<void> {
  const workflowId = 'scheduled-sync';
  const handle = await client.workflow.start('scheduledSync', {
    taskQueue,
    workflowId,
    args: [{ account: ACCOUNT, source: { kind: 'csv', path: await writeLeadsCsv(10, 'scheduled') } }],
  });
  await handle.result();
  await record(temporal, 'scheduled-sync', workflowId);
}

const temporal = await BenchTemporal.start();
const simulator = await startLeadSquaredSimulator({ plan: 'pro', ...KEYS });
try {
  await temporal.withWorker(
    { name: ACCOUNT, settings: recordedAccount(simulator.baseUrl) },
    { REC_AK: KEYS.accessKey, REC_SK: KEYS.secretKey },
    async (taskQueue) => {
      const { client } = temporal;
      await recordRateLimitedSync(temporal, client, taskQueue);
      await recordPausedSync(temporal, client, taskQueue);
      await recordFailedSync(temporal, client, taskQueue, (revoked) =>
        simulator.setKeys(revoked ? { accessKey: 'revoked', secretKey: 'revoked' } : KEYS),
      );
      await recordCancelledSync(temporal, client, taskQueue);
      await recordLeadsThenActivities(temporal, client, taskQueue);
      await recordScheduledSync(temporal, client, taskQueue);
    },
  );
  const governor = temporal.client.workflow.getHandle(governorWorkflowId(ACCOUNT));
  await governor.terminate('recorded');
  await record(temporal, 'account-governor-served-paused-and-failed', governorWorkflowId(ACCOUNT));
  await recordMovedAndContinuedGovernor(temporal);
  const totals = simulator.report({ requests: false }).totals;
  process.stdout.write(`simulator: ${JSON.stringify(totals)}\nhistories written to ${OUT}\n`);
} finally {
  await simulator.stop();
  await temporal.stop();
}
