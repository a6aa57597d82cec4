import {
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
  type ScheduleHandle,
  type ScheduleSpec,
} from '@temporalio/client';
import { z } from 'zod';
import { ConfigError, formatZodIssues } from '../core/errors.js';
import { WORKFLOW_TASK_QUEUE } from '../core/task-queues.js';
import { SyncInputSchema, type SyncInput, type SyncResult } from '../core/contract.js';
import { describeSource } from '../core/source-registry.js';
import { LeadsyncAccount } from '../core/search-attributes.js';
import type { scheduledSync } from '../../workflows/scheduled-sync.js';

/** The workflow type every leadsync schedule starts; `schedule list` knows its schedules by it. */
export const SCHEDULED_SYNC_WORKFLOW = 'scheduledSync';

/**
 * Two policies keep a recurring sync from ever running beside itself. SKIP (the default) drops a tick that comes
 * while the previous run is still going: the next run reads every change since the last cursor anyway, so nothing
 * waits longer than one interval and a sync slower than its interval does not hog the account's whole quota.
 * BUFFER_ONE starts one run right after an overrunning one, for tables where an interval's delay matters more.
 */
export const SyncOverlapSchema = z.enum([ScheduleOverlapPolicy.SKIP, ScheduleOverlapPolicy.BUFFER_ONE]);
export type SyncOverlap = z.infer<typeof SyncOverlapSchema>;

/** Temporal's duration strings, as far as a schedule needs them: 90s, 15m, 1h, 1d. */
export const DurationTextSchema = z
  .string()
  .regex(/^\d+(\.\d+)?(ms|s|m|h|d)$/, 'must be a number and a unit (ms, s, m, h or d), e.g. 15m or 1h');

export const SyncScheduleSchema = z
  .object({
    scheduleId: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'schedule ids are letters, digits, ., - and _')
      .max(200),
    input: SyncInputSchema,
    every: DurationTextSchema.optional(),
    cron: z.string().min(1).optional(),
    overlap: SyncOverlapSchema.default('SKIP'),
    /**
     * How late a missed run (server down, schedule paused) may still start. One run catches up on every change, so
     * the window only needs to cover an outage worth catching up after; older misses are dropped.
     */
    catchupWindow: DurationTextSchema.default('1h'),
    taskQueue: z.string().min(1).default(WORKFLOW_TASK_QUEUE),
    paused: z.boolean().default(false),
  })
  .strict()
  .refine((s) => (s.every === undefined) !== (s.cron === undefined), {
    message: 'give exactly one of every (an interval) or cron (an expression)',
    path: ['every'],
  });
export type SyncScheduleOptions = z.input<typeof SyncScheduleSchema>;

/**
 * A recurring sync: a Temporal Schedule whose action is the scheduledSync workflow, so each run takes the previous
 * good run's cursor. A failing run pauses the schedule (a failure is a bad config or credentials, which the next
 * tick would meet again) until someone fixes it and unpauses.
 */
export async function createSyncSchedule(client: Client, options: SyncScheduleOptions): Promise<ScheduleHandle> {
  const parsed = SyncScheduleSchema.safeParse(options);
  if (!parsed.success) throw new ConfigError(`invalid schedule:\n${formatZodIssues(parsed.error)}`);
  const { scheduleId, input, every, cron, overlap, catchupWindow, taskQueue, paused } = parsed.data;
  const spec: ScheduleSpec = every ? { intervals: [{ every: every as `${number}h` }] } : { cronExpressions: [cron!] };
  return client.schedule.create({
    scheduleId,
    spec,
    action: {
      type: 'startWorkflow',
      workflowType: SCHEDULED_SYNC_WORKFLOW,
      args: [input satisfies SyncInput] as Parameters<typeof scheduledSync>,
      taskQueue,
      workflowId: scheduleId,
      typedSearchAttributes: [{ key: LeadsyncAccount, value: input.account }],
      staticSummary: `Scheduled sync of ${scheduledSource(input.source)} into account ${input.account}`,
    },
    policies: { overlap, catchupWindow: catchupWindow as `${number}h`, pauseOnFailure: true },
    // What `schedule list` shows, as the person wrote it: the server keeps a cron only as calendar ranges.
    memo: {
      account: input.account,
      source: scheduledSource(input.source),
      when: every ? `every ${every}` : `cron ${cron}`,
    },
    typedSearchAttributes: [{ key: LeadsyncAccount, value: input.account }],
    state: { paused, ...(paused ? { note: 'created paused' } : {}) },
  });
}

/**
 * Runs the schedule now, under its own overlap policy. The SDK's default for a trigger is ALLOW_ALL, which would
 * let a run overlap the one in progress and, unwatched, never hand its cursor on.
 */
export async function triggerSyncSchedule(handle: ScheduleHandle): Promise<void> {
  const { policies } = await handle.describe();
  await handle.trigger(policies.overlap);
}

/** A run the schedule started, as `schedule describe` shows it. */
export interface ScheduledRun {
  workflowId: string;
  takenAt: Date;
  status: string;
  /**
   * What the run handed on, when it completed: the cursor the next run starts after, and the retry set it left when
   * the sync converges over runs.
   */
  result?: Pick<SyncResult, 'read' | 'accepted' | 'rejected' | 'nextSince' | 'retrySet'>;
}

export async function recentRuns(client: Client, description: ScheduleDescription): Promise<ScheduledRun[]> {
  return Promise.all(
    description.info.recentActions.map(async ({ takenAt, action }) => {
      const handle = client.workflow.getHandle<typeof scheduledSync>(
        action.workflow.workflowId,
        undefined,
        action.workflow.firstExecutionRunId ? { firstExecutionRunId: action.workflow.firstExecutionRunId } : {},
      );
      const { status } = await handle.describe();
      const result = status.name === 'COMPLETED' ? await handle.result() : undefined;
      return {
        workflowId: action.workflow.workflowId,
        takenAt,
        status: status.name,
        ...(result
          ? {
              result: {
                read: result.read,
                accepted: result.accepted,
                rejected: result.rejected,
                ...(result.nextSince ? { nextSince: result.nextSince } : {}),
                ...(result.retrySet ? { retrySet: result.retrySet } : {}),
              },
            }
          : {}),
      };
    }),
  );
}

/** What a schedule reads, for `schedule list` and the Web UI: an incremental source says how it follows changes. */
function scheduledSource(source: SyncInput['source']): string {
  const { label, changes } = describeSource(source);
  return changes ? `${label} (${changes})` : label;
}
