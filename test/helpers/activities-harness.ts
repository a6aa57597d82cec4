import { startSync, type SyncHandle } from '../../src/api/syncs.js';
import type { Records } from '../../src/core/contract.js';
import { LEAD_HEADER, csvLines, leadRows, writeCsv, type LeadSquaredSyncFixture } from './sync-harness.js';

export const ACTIVITY_HEADER = ['EmailAddress', 'ActivityEvent', 'ActivityNote', 'ActivityDateTime', 'mx_Custom_1'];

/** Starts a sync of a CSV file's rows, of one kind, into the fixture's account. */
export function startFrom(fixture: LeadSquaredSyncFixture, file: string, records: Records): Promise<SyncHandle> {
  return startSync(
    fixture.client,
    { account: fixture.setup.accountName, source: { kind: 'csv', path: file }, records },
    { taskQueue: fixture.setup.taskQueue },
  );
}

/**
 * Lands `leads` new leads with a leads sync, and writes a file of `perLead` activities of each (`line` makes the nth
 * activity of the ith lead, both from 1): returns the activities file.
 */
export async function landedLeadsWithActivities(
  fixture: LeadSquaredSyncFixture,
  name: string,
  { leads: count, perLead }: { leads: number; perLead: number },
  line: (email: string, lead: number, n: number) => string,
): Promise<string> {
  const leads = leadRows(count);
  const leadsFile = await writeCsv(fixture.setup.directory, `${name}-leads.csv`, LEAD_HEADER, csvLines(leads));
  await (await startFrom(fixture, leadsFile, 'leads')).result();
  const lines = leads.flatMap((lead, i) =>
    Array.from({ length: perLead }, (_, n) => line(lead.EmailAddress, i + 1, n + 1)),
  );
  return writeCsv(fixture.setup.directory, `${name}-activities.csv`, ACTIVITY_HEADER, lines);
}
