import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import {
  SCHEDULED_SYNC_WORKFLOW,
  createSyncSchedule,
  recentRuns,
  triggerSyncSchedule,
  type SyncOverlap,
} from '../../api/schedules.js';
import { describeSource, type SourceRef } from '../../core/source-registry.js';
import { addPriorityOption, addSyncOptions, syncRequestFrom, type SyncOptions } from '../sync-options.js';
import { describeRetrySet } from '../retry-set.js';
import { formatTable } from '../table.js';
import { withClient } from '../temporal-connection.js';

interface CreateOptions extends SyncOptions {
  id?: string;
  every?: string;
  cron?: string;
  overlap: string;
  catchupWindow: string;
  taskQueue?: string;
  paused?: boolean;
}

/** `schedule create|list|describe|pause|unpause|trigger|delete`: recurring syncs on Temporal Schedules. */
export function registerSchedule(program: Command): void {
  const schedule = program.command('schedule').description('recurring syncs on Temporal Schedules');

  addSyncOptions(
    addPriorityOption(schedule.command('create').description('sync a source every interval (or on a cron expression)')),
  )
    .option('--id <scheduleId>', 'schedule id (default: leadsync-<account>-<source name>)')
    .option('--every <duration>', 'interval between runs: 15m, 1h, 1d')
    .option('--cron <expression>', 'cron expression instead of --every, e.g. "0 * * * *" (UTC)')
    .option('--overlap <policy>', 'skip (a tick during a run is dropped) or buffer_one (one run waits)', 'skip')
    .option('--catchup-window <duration>', 'how late a missed run may still start', '1h')
    .option('--task-queue <name>', 'workflow task queue of the workers (default: leadsync)')
    .option('--paused', 'create the schedule paused')
    .option('--json', 'print the schedule id as JSON')
    .action((options: CreateOptions & { json?: boolean }) =>
      withClient(async (client) => {
        const { request } = await syncRequestFrom(options);
        const scheduleId = options.id ?? defaultScheduleId(request.account, request.source);
        await createSyncSchedule(client, {
          scheduleId,
          input: request,
          ...(options.every !== undefined ? { every: options.every } : {}),
          ...(options.cron !== undefined ? { cron: options.cron } : {}),
          overlap: options.overlap.toUpperCase() as SyncOverlap,
          catchupWindow: options.catchupWindow,
          ...(options.taskQueue ? { taskQueue: options.taskQueue } : {}),
          paused: options.paused ?? false,
        });
        process.stdout.write(options.json ? `${JSON.stringify({ scheduleId })}\n` : `schedule ${scheduleId}\n`);
      }),
    );

  schedule
    .command('list')
    .description("leadsync's schedules: id, account, when, paused")
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) =>
      withClient(async (client) => {
        const rows = [];
        for await (const summary of client.schedule.list()) {
          if (summary.action?.workflowType !== SCHEDULED_SYNC_WORKFLOW) continue;
          rows.push({
            scheduleId: summary.scheduleId,
            account: String(summary.memo?.account ?? ''),
            source: String(summary.memo?.source ?? ''),
            when: String(summary.memo?.when ?? ''),
            paused: summary.state.paused,
            nextRun: summary.info.nextActionTimes[0]?.toISOString(),
          });
        }
        if (options.json) {
          process.stdout.write(`${JSON.stringify(rows)}\n`);
          return;
        }
        const table = rows.map((r) => [
          r.scheduleId,
          r.account,
          r.source,
          r.when,
          r.paused ? 'yes' : 'no',
          r.nextRun ?? '',
        ]);
        process.stdout.write(
          `${formatTable(['schedule', 'account', 'source', 'when', 'paused', 'next run'], table)}\n`,
        );
      }),
    );

  schedule
    .command('describe <scheduleId>')
    .description('spec, policies, state, next runs, and the recent runs with the cursor each handed on')
    .option('--json', 'print JSON')
    .action((id: string, options: { json?: boolean }) =>
      withClient(async (client) => {
        const description = await client.schedule.getHandle(id).describe();
        const runs = await recentRuns(client, description);
        const shown = {
          scheduleId: id,
          when: String(description.memo?.when ?? ''),
          overlap: description.policies.overlap,
          catchupWindowSeconds: description.policies.catchupWindow / 1000,
          pauseOnFailure: description.policies.pauseOnFailure,
          paused: description.state.paused,
          ...(description.state.note ? { note: description.state.note } : {}),
          nextRuns: description.info.nextActionTimes.map((t) => t.toISOString()),
          running: description.info.runningActions.map((a) => a.workflow.workflowId),
          skippedOverlap: description.info.numActionsSkippedOverlap,
          missedCatchupWindow: description.info.numActionsMissedCatchupWindow,
          recentRuns: runs,
        };
        process.stdout.write(options.json ? `${JSON.stringify(shown)}\n` : describeText(shown));
      }),
    );

  const act = (name: string, description: string, run: (client: Client, id: string, note?: string) => Promise<void>) =>
    schedule
      .command(`${name} <scheduleId>`)
      .description(description)
      .option('--note <text>', 'why (shown by describe and the Web UI)')
      .action((id: string, options: { note?: string }) =>
        withClient(async (client) => {
          await run(client, id, options.note);
          process.stdout.write(`${name}: ${id}\n`);
        }),
      );
  act('pause', 'stop starting runs; a run in progress goes on', (c, id, note) => c.schedule.getHandle(id).pause(note));
  act('unpause', 'start runs again (also after a failed run paused the schedule)', (c, id, note) =>
    c.schedule.getHandle(id).unpause(note),
  );
  act('trigger', "run now, under the schedule's overlap policy", (c, id) =>
    triggerSyncSchedule(c.schedule.getHandle(id)),
  );
  act('delete', 'delete the schedule; a run in progress goes on', (c, id) => c.schedule.getHandle(id).delete());
}

function defaultScheduleId(account: string, source: SourceRef): string {
  return `leadsync-${account}-${describeSource(source).name}`.replace(/[^A-Za-z0-9._-]/g, '-');
}

function describeText(shown: Record<string, unknown> & { recentRuns: Awaited<ReturnType<typeof recentRuns>> }): string {
  const { recentRuns: runs, ...rest } = shown;
  const lines = Object.entries(rest).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`);
  if (runs.length > 0) {
    lines.push(
      '',
      formatTable(
        ['run', 'taken at', 'status', 'read', 'accepted', 'rejected', 'next since', 'retry set'],
        runs.map((r) => [
          r.workflowId,
          r.takenAt.toISOString(),
          r.status,
          String(r.result?.read ?? ''),
          String(r.result?.accepted ?? ''),
          String(r.result?.rejected ?? ''),
          r.result?.nextSince ? JSON.stringify(r.result.nextSince) : '',
          describeRetrySet(r.result?.retrySet),
        ]),
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}
