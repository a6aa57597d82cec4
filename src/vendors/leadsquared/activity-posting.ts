import type { LaneName } from '../../governance/plans.js';
import type { LeadRecord, Pace, RowOutcome } from '../types.js';
import { activityFromRecord, sentActivityKey } from './activities.js';
import type { LeadSquaredClient } from './client.js';
import { EMAIL_ATTRIBUTE } from './fields.js';

/**
 * Posts checked activity rows on `lane`: 25 to a bulk call by lead email, or one by one on a ProspectID. Activities
 * are not idempotent at LeadSquared, so a retried chunk (`retried`) first asks the vendor which of its rows the
 * earlier attempt already landed (a lost answer, a crash after the write) and posts only the others.
 */
export async function postActivities(
  client: LeadSquaredClient,
  lane: LaneName,
  records: LeadRecord[],
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
async function postSingleActivity(client: LeadSquaredClient, record: LeadRecord, pace: Pace): Promise<RowOutcome> {
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
  return cached === undefined ? pace(() => client.getLeadByEmail(email), 'general') : Promise.resolve(cached);
}

/**
 * Splits the rows into those the lead already has (by activityKey: same event, note, time and fields) and the rest.
 * Identical rows count: two identical rows and one stored activity leave one row to post. The reads go on the
 * general lane, a page of the lead's activities of each event per call.
 */
async function alreadyPosted(
  client: LeadSquaredClient,
  records: LeadRecord[],
  pace: Pace,
): Promise<{ landed: RowOutcome[]; unsent: LeadRecord[] }> {
  const landed: RowOutcome[] = [];
  const unsent: LeadRecord[] = [];
  const byEmail = new Map<string, LeadRecord[]>();
  for (const record of records) byEmail.set(record.email, [...(byEmail.get(record.email) ?? []), record]);
  for (const [email, rows] of byEmail) {
    const prospectId = await prospectIdOf(client, email, pace);
    if (prospectId === undefined) {
      unsent.push(...rows);
      continue;
    }
    const stored = new Map<string, number>();
    for (const event of new Set(rows.map((row) => activityFromRecord(row).event))) {
      for (let offset = 0; ;) {
        const page = await pace(() => client.activityKeysOfLead(prospectId, event, offset), 'general');
        for (const key of page.keys) stored.set(key, (stored.get(key) ?? 0) + 1);
        offset += page.keys.length;
        if (page.keys.length === 0 || offset >= page.total) break;
      }
    }
    for (const row of rows) {
      const key = sentActivityKey(activityFromRecord(row));
      const left = stored.get(key) ?? 0;
      if (left > 0) {
        stored.set(key, left - 1);
        landed.push({ row: row.row, status: 'accepted' });
      } else unsent.push(row);
    }
  }
  return { landed, unsent };
}
