import { z } from 'zod';
import type { Account } from '../../config/accounts.js';
import { ConfigError } from '../../config/errors.js';
import type { Credentials } from '../../config/credentials.js';
import { BatchTooLargeError } from '../errors.js';
import type { LeadRecord, Pace, RowOutcome, Vendor, VendorClient, VendorClientOptions } from '../types.js';
import { activityFromRecord, checkActivity } from './activities.js';
import { LeadSquaredClient } from './client.js';
import { EMAIL_ATTRIBUTE, checkLead } from './fields.js';

export { LeadSquaredClient, type LeadSquaredClientOptions } from './client.js';
export type { ActivityByEmail, ActivityRecord } from './activities.js';

/** An address no lead has: verify() looks it up to prove the keys work without touching data. */
const VERIFY_EMAIL = 'leadsync-verify@example.invalid';

/** The account's LeadSquared API, with the methods beyond the Vendor interface (lookups, activities). */
export function leadSquaredClient(
  account: Account,
  credentials: Credentials,
  options: VendorClientOptions,
): LeadSquaredClient {
  if (account.vendor !== 'leadsquared') {
    throw new ConfigError(`account '${account.name}' is a ${account.vendor} account, not a LeadSquared one`);
  }
  const { accessKey, secretKey } = credentials;
  if (!accessKey || !secretKey) {
    throw new ConfigError(`account '${account.name}': LeadSquared needs both an accessKey and a secretKey credential`);
  }
  return new LeadSquaredClient({
    accountName: account.name,
    baseUrl: account.baseUrl,
    accessKey,
    secretKey,
    timeoutMs: options.timeoutMs,
    fetch: options.fetch,
  });
}

export const leadSquared: Vendor = {
  name: 'leadsquared',
  emailField: EMAIL_ATTRIBUTE,
  // Leads land in the account itself: a sync names nothing more.
  targetSchema: z.object({}).strict(),
  checkLead,
  checkActivity,
  connect(account, credentials, options): VendorClient {
    const client = leadSquaredClient(account, credentials, options);
    return {
      async upsertLeads(lane, leads: LeadRecord[]) {
        if (lane === 'bulk') return { outcomes: await client.bulkCreateOrUpdateLeads(leads) };
        const [lead, ...more] = leads;
        if (more.length > 0) {
          throw new BatchTooLargeError(
            `LeadSquared account '${account.name}': the general lane upserts one lead per call, not ${leads.length}`,
            1,
          );
        }
        return { outcomes: lead ? [await client.createOrUpdateLead(lead)] : [] };
      },
      async postActivities(lane, activities: LeadRecord[], pace: Pace) {
        if (lane === 'bulk') return pace(() => client.postActivitiesByLeadField(activities.map(activityFromRecord)));
        const outcomes: RowOutcome[] = [];
        for (const activity of activities) outcomes.push(await postSingleActivity(client, activity, pace));
        return outcomes;
      },
      async verify() {
        await client.getLeadByEmail(VERIFY_EMAIL);
      },
    };
  },
};

/**
 * ProspectActivity.svc/Create needs the lead's ProspectID: from the cache (a leads sync just wrote it) or one more
 * paced lookup. A lead that does not exist rejects the row; the activity would have nothing to hang on.
 */
async function postSingleActivity(client: LeadSquaredClient, record: LeadRecord, pace: Pace): Promise<RowOutcome> {
  const prospectId = client.cachedProspectId(record.email) ?? (await pace(() => client.getLeadByEmail(record.email)));
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
