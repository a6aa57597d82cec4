import { setTimeout as sleep } from 'node:timers/promises';
import type { Client, ScheduleHandle } from '@temporalio/client';
import { triggerSyncSchedule } from '../../src/api/schedules.js';
import type { SyncResult } from '../../src/core/contract.js';

/** Triggers the schedule and returns the result of its `run`th run (1-based, counting every run it started). */
export async function triggerAndWait(client: Client, schedule: ScheduleHandle, run: number): Promise<SyncResult> {
  await triggerSyncSchedule(schedule);
  for (;;) {
    const { info } = await schedule.describe();
    const action = info.recentActions[run - 1];
    if (action) return client.workflow.getHandle(action.action.workflow.workflowId).result() as Promise<SyncResult>;
    await sleep(200);
  }
}
