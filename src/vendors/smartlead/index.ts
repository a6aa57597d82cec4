import { z } from 'zod';
import { ConfigError } from '../../core/errors.js';
import { BatchRefusedError } from '../errors.js';
import type {
  CallResult,
  Credentials,
  Vendor,
  VendorAccount,
  VendorClient,
  VendorClientOptions,
  VendorRecord,
} from '../types.js';
import { retryRead } from '../read-retry.js';
import { MAX_LEADS_PAGE, SmartLeadApi, UnreadableAnswerError } from './api.js';
import { EMAIL_FIELD, checkLead, fromSmartLeadLead, toSmartLeadLead } from './fields.js';
import { addLeadsOutcomes } from './outcomes.js';
import { SMARTLEAD_PLANS } from './plans.js';
import { AddLeadsSettingsSchema } from './schemas.js';
import { simulateSmartLead } from './simulate.js';

export { MAX_LEADS_PAGE, SmartLeadApi, UnreadableAnswerError, type Answered, type SmartLeadApiOptions } from './api.js';
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
export function smartLeadApi(
  account: VendorAccount,
  credentials: Credentials<'apiKey'>,
  options: VendorClientOptions,
): SmartLeadApi {
  if (account.vendor !== 'smartlead') {
    throw new ConfigError(`account '${account.name}' is a ${account.vendor} account, not a SmartLead one`);
  }
  const { apiKey } = credentials;
  if (!apiKey) throw new ConfigError(`account '${account.name}': SmartLead needs an apiKey credential`);
  return new SmartLeadApi({
    baseUrl: account.baseUrl,
    apiKey,
    timeoutMs: options.timeoutMs,
    maxAnswerBytes: options.maxAnswerBytes,
    label: accountLabel(account),
    transport: options.transport,
  });
}

export const smartLead: Vendor<'apiKey'> = {
  name: 'smartlead',
  plans: SMARTLEAD_PLANS,
  // Windows of a minute and more: 300 ms is half a percent, and covers 400-row uploads landing one body apart.
  defaultMarginMs: 300,
  credentialKeys: ['apiKey'],
  emailField: EMAIL_FIELD,
  targetSchema: SmartLeadTargetSchema,
  targetFlags: [
    { flags: '--campaign <id>', description: 'SmartLead campaign to add the leads to', targetKey: 'campaignId' },
  ],
  checkLead,
  connect(account, credentials, options): VendorClient {
    const api = smartLeadApi(account, credentials, options);
    return {
      // SmartLead has one lane: every endpoint spends from the same per-key windows.
      async upsertLeads(lane, leads, target) {
        if (lane !== 'general') throw new Error(`SmartLead has only the general lane, not '${lane}'`);
        const { campaignId, settings } = SmartLeadTargetSchema.parse(target);
        try {
          const { data, quota } = await api.addLeadsToCampaign(campaignId, leads.map(toSmartLeadLead), settings);
          const { outcomes, unattributed } = addLeadsOutcomes(data, leads);
          const result: CallResult = { outcomes };
          if (quota) result.quota = quota;
          if (unattributed.length > 0) result.unattributed = unattributed;
          return result;
        } catch (err) {
          // A lone lead SmartLead refuses is that lead's reject, in SmartLead's words; a batch is split to find it.
          if (err instanceof BatchRefusedError && leads.length === 1) return rejectAll(leads, err.reason);
          // Whatever happened to the rows, the answer does not say: each is rejected with the answer itself as the
          // reason (a person can check the campaign), rather than the sync failing or guessing.
          if (err instanceof UnreadableAnswerError) {
            return rejectAll(
              leads,
              `SmartLead answered the upload in a shape leadsync cannot read: ${excerpt(err.body)}`,
            );
          }
          throw err;
        }
      },
      // GET /campaigns/{id}/leads (api.smartlead.ai: "Fetch all leads from a campaign", offset and limit, at most 100
      // a page, total_leads for the whole): the campaign is listed, so leads that left the source show too.
      readLeads: {
        by: 'list',
        async read(target, offset, pace) {
          const { campaignId } = SmartLeadTargetSchema.parse(target);
          const { data } = await retryRead(() =>
            pace(() => api.listCampaignLeads(campaignId, { offset, limit: MAX_LEADS_PAGE }), 'general'),
          );
          const next = offset + data.data.length;
          return {
            leads: data.data.map(({ lead }) => fromSmartLeadLead(lead)),
            ...(data.data.length > 0 && next < data.total_leads ? { next } : {}),
          };
        },
      },
      // One GET of the campaign proves the key (401) and the campaign (404) without touching data.
      async verify(target) {
        const { campaignId } = SmartLeadTargetSchema.parse(target);
        await api.getCampaign(campaignId);
      },
    };
  },
  simulator: {
    command: simulateSmartLead,
    load: async () => (await import('./simulator/command.js')).smartLeadSimulator,
  },
};

const REASON_EXCERPT_CHARS = 500;

function rejectAll(leads: readonly VendorRecord[], reason: string): CallResult {
  return { outcomes: leads.map((lead) => ({ row: lead.row, status: 'rejected', reason })) };
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > REASON_EXCERPT_CHARS ? `${flat.slice(0, REASON_EXCERPT_CHARS)}…` : flat;
}

function accountLabel(account: VendorAccount): string {
  return `smartlead account '${account.name}'`;
}
