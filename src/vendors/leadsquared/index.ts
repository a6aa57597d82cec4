import { z } from 'zod';
import type { Account } from '../../config/accounts.js';
import { ConfigError } from '../../core/errors.js';
import type { Credentials } from '../types.js';
import { BatchTooLargeError } from '../errors.js';
import type { LeadRecord, Vendor, VendorClient, VendorClientOptions } from '../types.js';
import { checkActivity } from './sales-activities.js';
import { postActivities } from './activity-posting.js';
import { LeadSquaredClient } from './api.js';
import { EMAIL_ATTRIBUTE, checkLead } from './fields.js';

export { LeadSquaredClient, type LeadSquaredClientOptions } from './api.js';
export type { ActivityByEmail, ActivityRecord } from './sales-activities.js';

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
      postActivities: (lane, activities, pace, { retried }) => postActivities(client, lane, activities, pace, retried),
      async verify() {
        await client.getLeadByEmail(VERIFY_EMAIL);
      },
    };
  },
};
