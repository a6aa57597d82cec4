import { z } from 'zod';
import { ConfigError } from '../../core/errors.js';
import { BatchTooLargeError } from '../errors.js';
import { retryRead } from '../read-retry.js';
import type { Credentials, Vendor, VendorAccount, VendorClient, VendorClientOptions, VendorRecord } from '../types.js';
import { checkActivity } from './sales-activities.js';
import { postActivities } from './activity-posting.js';
import { LeadSquaredClient } from './api.js';
import { EMAIL_ATTRIBUTE, checkLead } from './fields.js';
import { ACTIVITIES_PER_BULK_CALL, LEADSQUARED_PLANS } from './plans.js';
import { simulateLeadSquared } from './simulate.js';

export { LeadSquaredClient, type LeadSquaredClientOptions } from './api.js';
export type { ActivityByEmail, ActivityRecord } from './sales-activities.js';

/** The two keys of LeadSquared's API, sent with every call. */
type LeadSquaredCredential = 'accessKey' | 'secretKey';

/** An address no lead has: verify() looks it up to prove the keys work without touching data. */
const VERIFY_EMAIL = 'leadsync-verify@example.invalid';

/** The account's LeadSquared API, with the methods beyond the Vendor interface (lookups, activities). */
export function leadSquaredClient(
  account: VendorAccount,
  credentials: Credentials<LeadSquaredCredential>,
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
    maxAnswerBytes: options.maxAnswerBytes,
    transport: options.transport,
  });
}

export const leadSquared: Vendor<LeadSquaredCredential> = {
  name: 'leadsquared',
  plans: LEADSQUARED_PLANS,
  activitiesPerCall: ACTIVITIES_PER_BULK_CALL,
  // Windows of 5 s: a margin of m caps every lane at 5 s / (5 s + m) of its plan, 96.2% at 200 ms, 94.3% at 300. A
  // stall past it (a loaded worker, a slow answer) moves the late call's slot instead of drawing a 429
  // (governance/late-answers.ts).
  defaultMarginMs: 200,
  credentialKeys: ['accessKey', 'secretKey'],
  emailField: EMAIL_ATTRIBUTE,
  // Leads land in the account itself: a sync names nothing more.
  targetSchema: z.object({}).strict(),
  targetFlags: [],
  checkLead,
  checkActivity,
  connect(account, credentials, options): VendorClient {
    const client = leadSquaredClient(account, credentials, options);
    return {
      async upsertLeads(lane, leads: VendorRecord[]) {
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
      // LeadSquared finds a lead by email but lists no sync's leads: one lookup per lead, on the general lane it
      // spends (Leads.Get searches one field's value a call, apidocs: search-by-lead-criteria, so it is no cheaper).
      readLeads: {
        by: 'email',
        async read(emails, pace) {
          const found = await Promise.all(
            emails.map((email) => retryRead(() => pace(() => client.readLead(email), 'general'))),
          );
          return found.filter((lead) => lead !== undefined);
        },
      },
    };
  },
  simulator: {
    command: simulateLeadSquared,
    load: async () => (await import('./simulator/command.js')).leadSquaredSimulator,
  },
};
