import { WorkflowNotFoundError, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow/index.js';
import { z } from 'zod';
import {
  SyncInputSchema,
  SyncPlanSchema,
  type RetrySetSummary,
  type SyncRequest,
  type SyncResult,
} from '../core/contract.js';
import { ConfigError, formatZodIssues } from '../core/errors.js';
import { RejectsTableRefSchema, RunIdSchema, type RejectsTableReport } from '../core/rejects-ref.js';
import type { FilePin } from '../core/source-refs.js';
import { reportRunId } from '../rejects/files.js';
import { recurrenceScope } from '../rejects/row-store.js';
import { SCHEDULED_SYNC_WORKFLOW } from './schedules.js';
import { startSync, type StartedSync } from './syncs.js';

/** A sync or schedule id as given on the command line: checked before it reaches a visibility query. */
export const WorkflowIdSchema = z
  .string()
  .min(1, 'give a sync or schedule id')
  .max(1000)
  .regex(/^[\w.:@/+=~-]+$/, 'letters, digits and . _ - : @ / + = ~ only');

/** A finished run of a sync that rejected rows, and where its rejects are. */
export interface RejectingRun {
  syncId: string;
  /** The run its rejects are kept under (the first of its continue-as-new chain): `--run` of show and retry. */
  runId: string;
  finishedAt: Date;
  cancelled: boolean;
  /** Rows rejected (each once), and rows the vendor refused without naming them. */
  rejected: number;
  unattributed: number;
  /** The CSV report on the workers' disk, or the table and the rows of it that are this run's. */
  report: { file: string } | { table: RejectsTableReport };
  /** The workflow task queue it ran on: a retry runs there too. */
  taskQueue: string;
  /** It converged with the runs before it (SyncResult.retrySet): the row store counts its rows' failed runs. */
  converged: boolean;
  /** The retry set as the run left it, when it converged. */
  retrySet?: RetrySetSummary;
}

/**
 * The finished runs with rejected rows of a sync id (each use of the id), or of every sync a schedule started, newest
 * first. Only completed runs (a cancelled sync completes too) have a report; a failed one is not listed.
 */
export async function rejectingRuns(client: Client, id: string): Promise<RejectingRun[]> {
  const checked = checkId(id);
  const schedule = await isSchedule(client, checked);
  const query = schedule
    ? scheduledRunsQuery(checked)
    : `WorkflowType = 'leadSync' AND WorkflowId = '${checked}' AND ExecutionStatus = 'Completed'`;
  const runs: RejectingRun[] = [];
  for await (const execution of client.workflow.list({ query })) {
    // A schedule's run is a scheduledSync whose child, `<run>-sync`, is the sync: its result is the child's.
    const run = await finishedRun(client, execution, schedule ? `${execution.workflowId}-sync` : execution.workflowId);
    if (run) runs.push(run);
  }
  if (runs.length === 0 && !schedule && !(await exists(client, checked))) throw unknownSync(checked);
  return runs.sort((a, b) => b.finishedAt.getTime() - a.finishedAt.getTime());
}

/**
 * The run whose rejects to show or retry: `runId` (as `rejects list` prints it), else the newest run of the sync id,
 * or the schedule's newest completed run; that run must have finished and rejected rows.
 */
export async function rejectingRun(client: Client, syncOrSchedule: string, runId?: string): Promise<RejectingRun> {
  const id = checkId(syncOrSchedule);
  if (runId !== undefined) {
    const run = RunIdSchema.safeParse(runId);
    if (!run.success) throw new ConfigError(`--run: ${run.error.issues[0]?.message} (got '${runId}')`);
    const found = (await rejectingRuns(client, id)).find((r) => r.runId === run.data);
    if (!found) throw new ConfigError(`${id} has no finished run ${run.data} with rejected rows (see rejects list)`);
    return found;
  }
  if (await isSchedule(client, id)) return latestScheduledRun(client, id);
  const latest = await client.workflow
    .getHandle(id)
    .describe()
    .catch((err: unknown) => {
      throw err instanceof WorkflowNotFoundError ? unknownSync(id) : err;
    });
  if (latest.type !== 'leadSync') throw new ConfigError(`${id} is a ${latest.type} workflow, not a sync`);
  if (latest.status.name === 'RUNNING') {
    throw new ConfigError(`sync ${id} is still running: its rejects are reported when it finishes`);
  }
  if (latest.status.name !== 'COMPLETED') {
    throw new ConfigError(
      `sync ${id} ended ${latest.status.name}: a sync that did not finish writes no rejects report`,
    );
  }
  const run = await finishedRun(client, latest, id);
  if (!run) throw new ConfigError(`sync ${id} rejected no row`);
  return run;
}

/** A schedule's newest completed run: a failed or running one has no report, and an older one is not the latest. */
async function latestScheduledRun(client: Client, scheduleId: string): Promise<RejectingRun> {
  let latest: WorkflowExecutionInfo | undefined;
  for await (const execution of client.workflow.list({ query: scheduledRunsQuery(scheduleId) })) {
    if (!latest || (execution.closeTime?.getTime() ?? 0) > (latest.closeTime?.getTime() ?? 0)) latest = execution;
  }
  if (!latest) throw new ConfigError(`schedule ${scheduleId} has no completed run`);
  const syncId = `${latest.workflowId}-sync`;
  const run = await finishedRun(client, latest, syncId);
  if (!run) throw new ConfigError(`schedule ${scheduleId}'s latest completed run, sync ${syncId}, rejected no row`);
  return run;
}

/**
 * The scope the run's rows recur in (src/rejects/row-store.ts), when it converged: found from the input its first run
 * was started with.
 */
export async function recurrenceScopeOf(client: Client, run: RejectingRun): Promise<string | undefined> {
  if (!run.converged) return undefined;
  // The first event alone: a sync's history holds an event or more per chunk.
  const { history } = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId: run.syncId, runId: run.runId },
    maximumPageSize: 1,
  });
  const started = history?.events?.[0]?.workflowExecutionStartedEventAttributes;
  return recurrenceScope(await inputOf(client, run, started?.input?.payloads));
}

/**
 * Starts a sync of a run's rejected rows only, into the same account with the same mapping, target and share, on the
 * task queue the run used: they pass the same governor, checks and rejects sink, and rows still bad are this new
 * sync's rejects. The source is the one the run read (`rejected` kind), found from the input of its first run.
 */
export async function retryRejects(client: Client, run: RejectingRun, workflowId?: string): Promise<StartedSync> {
  const { input, pin } = await startedWith(client, run);
  // A retry of a retry reads the same source: its rows keep their numbers (and keys) in it.
  const source = input.source.kind === 'rejected' ? input.source.source : input.source;
  const request: SyncRequest = {
    ...input,
    source: { kind: 'rejected', of: { syncId: run.syncId, runId: run.runId }, source, ...(pin ? { pin } : {}) },
  };
  return startSync(client, request, {
    workflowId: workflowId ?? `${run.syncId}-retry-${Date.now().toString(36)}`,
    taskQueue: run.taskQueue,
  });
}

/** What the run's first execution was started with, and the file pin its prepare took (none for a table). */
async function startedWith(client: Client, run: RejectingRun): Promise<{ input: SyncRequest; pin?: FilePin }> {
  const history = await client.workflow.getHandle(run.syncId, run.runId).fetchHistory();
  const events = history.events ?? [];
  const converter = client.options.loadedDataConverter;
  const input = await inputOf(client, run, events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads);
  const prepare = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'prepareSync');
  const completed = events.find(
    (e) => prepare && Number(e.activityTaskCompletedEventAttributes?.scheduledEventId) === Number(prepare.eventId),
  );
  const plan = SyncPlanSchema.safeParse(
    await decodeFromPayloadsAtIndex(converter, 0, completed?.activityTaskCompletedEventAttributes?.result?.payloads),
  );
  if (!plan.success) throw new ConfigError(`sync ${run.syncId}'s plan cannot be read back from its history`);
  return { input, ...(plan.data.pin ? { pin: plan.data.pin } : {}) };
}

/** The input a run was started with, checked. */
async function inputOf(
  client: Client,
  run: RejectingRun,
  payloads: Parameters<typeof decodeFromPayloadsAtIndex>[2],
): Promise<SyncRequest> {
  const input = SyncInputSchema.safeParse(
    await decodeFromPayloadsAtIndex(client.options.loadedDataConverter, 0, payloads),
  );
  if (!input.success) {
    throw new ConfigError(`sync ${run.syncId}'s input cannot be read back:\n${formatZodIssues(input.error)}`);
  }
  return input.data;
}

async function finishedRun(
  client: Client,
  execution: Pick<WorkflowExecutionInfo, 'workflowId' | 'runId' | 'taskQueue' | 'closeTime'>,
  syncId: string,
): Promise<RejectingRun | undefined> {
  const result = (await client.workflow.getHandle(execution.workflowId, execution.runId).result()) as SyncResult;
  const base = {
    syncId,
    finishedAt: execution.closeTime ?? new Date(0),
    cancelled: result.cancelled,
    rejected: result.rejected,
    unattributed: result.unattributed,
    taskQueue: execution.taskQueue,
    converged: result.retrySet !== undefined,
    ...(result.retrySet ? { retrySet: result.retrySet } : {}),
  };
  if (result.rejectsTable) {
    const table = RejectsTableRefSchema.safeParse({
      connection: result.rejectsTable.connection,
      table: result.rejectsTable.table,
    });
    const runId = RunIdSchema.safeParse(result.rejectsTable.runId);
    if (!table.success || !runId.success) throw new ConfigError(`sync ${syncId}'s result names no readable table`);
    return { ...base, runId: runId.data, report: { table: { ...result.rejectsTable, ...table.data } } };
  }
  if (result.rejectsFile) {
    const runId = reportRunId(result.rejectsFile);
    if (runId === undefined) throw new ConfigError(`sync ${syncId}'s report ${result.rejectsFile} names no run`);
    return { ...base, runId, report: { file: result.rejectsFile } };
  }
  return undefined;
}

function scheduledRunsQuery(scheduleId: string): string {
  return `WorkflowType = '${SCHEDULED_SYNC_WORKFLOW}' AND TemporalScheduledById = '${scheduleId}' AND ExecutionStatus = 'Completed'`;
}

function checkId(id: string): string {
  const parsed = WorkflowIdSchema.safeParse(id);
  if (!parsed.success) throw new ConfigError(`sync or schedule id: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

async function isSchedule(client: Client, id: string): Promise<boolean> {
  try {
    await client.schedule.getHandle(id).describe();
    return true;
  } catch (err) {
    if (err instanceof Error && err.name === 'ScheduleNotFoundError') return false;
    throw err;
  }
}

async function exists(client: Client, id: string): Promise<boolean> {
  return client.workflow
    .getHandle(id)
    .describe()
    .then(
      () => true,
      (err: unknown) => {
        if (err instanceof WorkflowNotFoundError) return false;
        throw err;
      },
    );
}

function unknownSync(id: string): ConfigError {
  return new ConfigError(`no sync or schedule ${id} in this namespace`);
}
