import type { LaneName } from '../../core/plans.js';
import type { VendorRecord, Pace, RowOutcome } from '../types.js';
import { retryRead } from '../read-retry.js';
import { activityFromRecord, isSameActivity, type RetrievedActivity } from './sales-activities.js';
import type { LeadSquaredClient } from './api.js';
import { EMAIL_ATTRIBUTE } from './fields.js';

/**
 * Posts checked activity rows on `lane`: 25 to a bulk call by lead email, or one by one on a ProspectID. Activities
 * are not idempotent at LeadSquared, so a retried chunk (`retried`) first asks the vendor which of its rows the
 * earlier attempt already landed (a lost answer, a crash after the write) and posts only the others.
 */
export async function postActivities(
  client: LeadSquaredClient,
  lane: LaneName,
  records: VendorRecord[],
  pace: Pace,
  retried: boolean,
): Promise<RowOutcome[]> {
  const { landed, unsent } = retried ? await alreadyPosted(client, records, pace) : { landed: [], unsent: records };
  if (unsent.length === 0) return landed;
  if (lane === 'bulk') {
    return [...landed, ...(await pace(() => client.postActivitiesByLeadField(unsent.map(activityFromRecord))))];
  }
  const outcomes = landed;
  for (const record of unsent) outcomes.push(await postSingleActivity(client, record, pace));
  return outcomes;
}

/**
 * ProspectActivity.svc/Create needs the lead's ProspectID: from the cache (a leads sync just wrote it) or one more
 * paced lookup. A lead that does not exist rejects the row; the activity would have nothing to hang on.
 */
async function postSingleActivity(client: LeadSquaredClient, record: VendorRecord, pace: Pace): Promise<RowOutcome> {
  const prospectId = await prospectIdOf(client, record.email, pace);
  if (prospectId === undefined) {
    return {
      row: record.row,
      status: 'rejected',
      field: EMAIL_ATTRIBUTE,
      reason: `no lead has ${EMAIL_ATTRIBUTE} '${record.email}'`,
    };
  }
  return pace(() => client.postActivity(prospectId, activityFromRecord(record)));
}

function prospectIdOf(client: LeadSquaredClient, email: string, pace: Pace): Promise<string | undefined> {
  const cached = client.cachedProspectId(email);
  if (cached !== undefined) return Promise.resolve(cached);
  return retryRead(() => pace(() => client.getLeadByEmail(email), 'general'));
}

/**
 * Splits the rows into those the lead already has (isSameActivity: same event, note, time and the fields sent) and
 * the rest. Identical rows count: two identical rows and one stored activity leave one row to post. The reads go on
 * the general lane, a page of the lead's activities of each event per call, each retried in place when lost.
 */
async function alreadyPosted(
  client: LeadSquaredClient,
  records: VendorRecord[],
  pace: Pace,
): Promise<{ landed: RowOutcome[]; unsent: VendorRecord[] }> {
  const byEmail = new Map<string, VendorRecord[]>();
  for (const record of records) byEmail.set(record.email, [...(byEmail.get(record.email) ?? []), record]);
  // The leads are read at once: each read waits for its own slot, so a chunk's reads take the lane's time, not the
  // sum of their round trips.
  const perLead = await Promise.all([...byEmail].map(([email, rows]) => postedOnLead(client, email, rows, pace)));
  return { landed: perLead.flatMap((lead) => lead.landed), unsent: perLead.flatMap((lead) => lead.unsent) };
}

async function postedOnLead(
  client: LeadSquaredClient,
  email: string,
  rows: VendorRecord[],
  pace: Pace,
): Promise<{ landed: RowOutcome[]; unsent: VendorRecord[] }> {
  const prospectId = await prospectIdOf(client, email, pace);
  if (prospectId === undefined) return { landed: [], unsent: rows };
  const stored: RetrievedActivity[] = [];
  for (const event of new Set(rows.map((row) => activityFromRecord(row).event))) {
    stored.push(...(await activitiesOf(client, prospectId, event, pace)));
  }
  const landed: RowOutcome[] = [];
  const unsent: VendorRecord[] = [];
  const matched = new Set<number>();
  for (const row of rows) {
    const activity = activityFromRecord(row);
    const index = stored.findIndex((candidate, i) => !matched.has(i) && isSameActivity(candidate, activity));
    if (index >= 0) {
      matched.add(index);
      landed.push({ row: row.row, status: 'accepted' });
    } else unsent.push(row);
  }
  return { landed, unsent };
}

/**
 * Every activity of `event` on the lead, page by page (Paging.Offset is the page number). Whether the first page is
 * 0 or 1 is not documented, so an activity is counted once by its Id, and paging ends when the vendor's RecordCount
 * is reached or a page brings nothing: a page more than needed costs a call, never a missed activity.
 */
async function activitiesOf(
  client: LeadSquaredClient,
  prospectId: string,
  event: number,
  pace: Pace,
): Promise<RetrievedActivity[]> {
  const byId = new Map<string, RetrievedActivity>();
  const unnamed: RetrievedActivity[] = [];
  for (let page = 0; ; page++) {
    const { activities, total } = await retryRead(() =>
      pace(() => client.activitiesOfLead(prospectId, event, page), 'general'),
    );
    for (const activity of activities) {
      if (activity.id === undefined) unnamed.push(activity);
      else byId.set(activity.id, activity);
    }
    // A vendor that ignored the page number would answer the same page forever: no lead needs more pages than it has activities.
    if (activities.length === 0 || byId.size + unnamed.length >= total || page >= total) break;
  }
  return [...byId.values(), ...unnamed];
}
