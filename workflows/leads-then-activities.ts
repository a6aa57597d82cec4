import { ParentClosePolicy, executeChild, workflowInfo } from '@temporalio/workflow';
import { SyncInputSchema, type SyncInput, type SyncResult } from '../src/core/contract.js';
import { parseArgument } from './arguments.js';
import { leadSync } from './sync.js';

export interface LeadsThenActivitiesResult {
  leads: SyncResult;
  /** Absent when the leads sync was cancelled: activities would find leads missing. */
  activities?: SyncResult;
}

/**
 * Leads, then their activities, as one workflow: the activities sync starts only once every lead has landed, so an
 * activity never looks for a lead still on its way (and the worker's ProspectID cache already knows the leads).
 * Each half is a leadSync child with its own progress, controls and rejects report.
 */
export async function leadsThenActivities(leads: SyncInput, activities: SyncInput): Promise<LeadsThenActivitiesResult> {
  // Both halves are checked before the first starts: a bad activities input must not wait for every lead to land.
  parseArgument('leads input', SyncInputSchema, leads);
  parseArgument('activities input', SyncInputSchema, activities);
  const { workflowId } = workflowInfo();
  const child = (input: SyncInput, half: string) =>
    executeChild(leadSync, {
      args: [input],
      workflowId: `${workflowId}-${half}`,
      // A cancelled parent lets the child finish its chunks in flight and write its rejects report.
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
    });
  const leadsResult = await child({ ...leads, records: 'leads' }, 'leads');
  if (leadsResult.cancelled) return { leads: leadsResult };
  return { leads: leadsResult, activities: await child({ ...activities, records: 'activities' }, 'activities') };
}
