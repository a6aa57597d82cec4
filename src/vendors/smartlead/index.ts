import { z } from 'zod';
import type { Account } from '../../config/accounts.js';
import type { Credentials } from '../../config/credentials.js';
import { ConfigError } from '../../config/errors.js';
import type { Vendor, VendorClient, VendorClientOptions } from '../types.js';
import { SmartLeadApi } from './api.js';
import { EMAIL_FIELD, checkLead, toSmartLeadLead } from './fields.js';
import { addLeadsOutcomes } from './outcomes.js';
import { AddLeadsSettingsSchema } from './schemas.js';

export { MAX_LEADS_PAGE, SmartLeadApi, type Answered, type SmartLeadApiOptions } from './api.js';
export { MAX_LEADS_PER_CALL } from './classify.js';
export { CUSTOM_FIELD_PREFIX, STANDARD_FIELDS } from './fields.js';
export type {
  AddLeadsResult,
  AddLeadsSettings,
  Campaign,
  CampaignAnalytics,
  CampaignLead,
  CampaignLeadsPage,
  SmartLeadLead,
} from './schemas.js';

/** A sync to SmartLead goes to one campaign; ids come as numbers, or as digits from a CLI flag or a config file. */
export const SmartLeadTargetSchema = z
  .object({
    campaignId: z.union([
      z.number().int().positive(),
      z.string().regex(/^\d+$/, 'a campaign id is digits').transform(Number),
    ]),
    settings: AddLeadsSettingsSchema.optional(),
  })
  .strict();
export type SmartLeadTarget = z.output<typeof SmartLeadTargetSchema>;

/** The account's SmartLead API, with the endpoints beyond the Vendor interface (campaigns, leads, analytics). */
export function smartLeadApi(account: Account, credentials: Credentials, options: VendorClientOptions): SmartLeadApi {
  if (account.vendor !== 'smartlead') {
    throw new ConfigError(`account '${account.name}' is a ${account.vendor} account, not a SmartLead one`);
  }
  const { apiKey } = credentials;
  if (!apiKey) throw new ConfigError(`account '${account.name}': SmartLead needs an apiKey credential`);
  return new SmartLeadApi({
    baseUrl: account.baseUrl,
    apiKey,
    timeoutMs: options.timeoutMs,
    label: accountLabel(account),
    fetch: options.fetch,
  });
}

export const smartLead: Vendor = {
  name: 'smartlead',
  emailField: EMAIL_FIELD,
  targetSchema: SmartLeadTargetSchema,
  checkLead,
  connect(account, credentials, options): VendorClient {
    const api = smartLeadApi(account, credentials, options);
    return {
      // SmartLead has one lane: every endpoint spends from the same per-key windows.
      async upsertLeads(lane, leads, target) {
        if (lane !== 'general') throw new Error(`SmartLead has only the general lane, not '${lane}'`);
        const { campaignId, settings } = SmartLeadTargetSchema.parse(target);
        const { data, quota } = await api.addLeadsToCampaign(campaignId, leads.map(toSmartLeadLead), settings);
        const outcomes = addLeadsOutcomes(`${accountLabel(account)}: POST /campaigns/${campaignId}/leads`, data, leads);
        return quota ? { outcomes, quota } : { outcomes };
      },
      // One GET of the campaign proves the key (401) and the campaign (404) without touching data.
      async verify(target) {
        const { campaignId } = SmartLeadTargetSchema.parse(target);
        await api.getCampaign(campaignId);
      },
    };
  },
};

function accountLabel(account: Account): string {
  return `smartlead account '${account.name}'`;
}
