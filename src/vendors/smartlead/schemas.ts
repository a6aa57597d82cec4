import { z } from 'zod';

/**
 * SmartLead's answers, as its API reference and the seed show them. Unknown keys are kept but not read: the
 * vendor adds fields freely. Counts are numbers in some answers and strings in others (`total_leads: "42"`), so
 * every count takes either.
 */

const Count = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/).transform(Number)]);
const OptionalText = z.string().nullish();

/** Import settings of POST /campaigns/{id}/leads, as documented; an unknown flag is refused rather than ignored. */
export const AddLeadsSettingsSchema = z
  .object({
    ignore_global_block_list: z.boolean().optional(),
    ignore_unsubscribe_list: z.boolean().optional(),
    ignore_duplicate_leads_in_other_campaign: z.boolean().optional(),
  })
  .strict();
export type AddLeadsSettings = z.infer<typeof AddLeadsSettingsSchema>;

/** One lead as SmartLead takes it: `email` plus its own fields, and anything else under `custom_fields`. */
export interface SmartLeadLead {
  email: string;
  first_name?: string;
  last_name?: string;
  phone_number?: string;
  company_name?: string;
  website?: string;
  location?: string;
  linkedin_profile?: string;
  company_url?: string;
  custom_fields?: Record<string, string>;
}

export interface RefusedLead {
  email: string;
  reason: string;
}

/** Either add-leads answer, in one shape. */
export interface AddLeadsResult {
  addedCount: number;
  /** Refusals SmartLead names by address. A lead already in the campaign is not one: the upload is idempotent. */
  refused: RefusedLead[];
  /** Refusals an answer counts without naming the leads (the classic `block_count`): such rows cannot be placed. */
  unnamedRefusals: { count: number; reason: string }[];
}

const INVALID_EMAIL = 'invalid email address';
const BLOCKED = 'on the global block list';
const UNSUBSCRIBED = 'unsubscribed (SmartLead keeps unsubscribed addresses out of campaigns)';
const NOT_IMPORTED = "not imported: the SmartLead account's lead limit is exhausted";
const SKIPPED_WITHOUT_REASON = 'skipped by SmartLead (no reason given)';
/** The newer answer lists leads already in the campaign among the skipped ones; they count as accepted. */
const ALREADY_IN_CAMPAIGN = /already (?:added to|in|exists in|present in) (?:this |the )?campaign/i;

/** An address in a list of the classic answer: a string, or a lead object carrying it. */
const ListedEmailSchema = z.union([z.string(), z.looseObject({ email: z.string() }).transform((lead) => lead.email)]);

/**
 * Classic answer: counts, the invalid and the unsubscribed addresses by name; blocked leads are only counted, and
 * so are leads not imported because the account's lead limit ran out.
 */
const ClassicAddLeadsAnswerSchema = z
  .looseObject({
    ok: z.boolean(),
    upload_count: Count,
    total_leads: Count.optional(),
    already_added_to_campaign: Count.default(0),
    duplicate_count: Count.default(0),
    invalid_email_count: Count.default(0),
    invalid_emails: z.array(z.string()).default([]),
    unsubscribed_leads: z.array(ListedEmailSchema).default([]),
    block_count: Count.default(0),
    lead_import_stopped_count: Count.default(0),
  })
  .transform((answer): AddLeadsResult => ({
    addedCount: answer.upload_count,
    refused: [
      ...answer.invalid_emails.map((email) => ({ email, reason: INVALID_EMAIL })),
      ...answer.unsubscribed_leads.map((email) => ({ email, reason: UNSUBSCRIBED })),
    ],
    unnamedRefusals: [
      { count: answer.invalid_email_count - answer.invalid_emails.length, reason: INVALID_EMAIL },
      { count: answer.block_count, reason: BLOCKED },
      { count: answer.lead_import_stopped_count, reason: NOT_IMPORTED },
    ].filter((r) => r.count > 0),
  }));

/** Skipped leads come as addresses or as objects with a reason; the newer reference shows no more than that. */
const SkippedLeadSchema = z.union([
  z.string().transform((email) => ({ email, reason: undefined })),
  z
    .looseObject({ email: z.string(), reason: OptionalText, message: OptionalText })
    .transform((s) => ({ email: s.email, reason: s.reason ?? s.message ?? undefined })),
]);

/** Newer answer: counts, and every skipped lead with its reason. */
const NewAddLeadsAnswerSchema = z
  .looseObject({
    success: z.boolean(),
    added_count: Count,
    skipped_count: Count.default(0),
    skipped_leads: z.array(SkippedLeadSchema).default([]),
  })
  .transform((answer): AddLeadsResult => ({
    addedCount: answer.added_count,
    refused: answer.skipped_leads
      .filter((s) => !ALREADY_IN_CAMPAIGN.test(s.reason ?? ''))
      .map((s) => ({ email: s.email, reason: s.reason || SKIPPED_WITHOUT_REASON })),
    unnamedRefusals: [
      { count: answer.skipped_count - answer.skipped_leads.length, reason: SKIPPED_WITHOUT_REASON },
    ].filter((r) => r.count > 0),
  }));

/** POST /campaigns/{id}/leads, in either documented shape. */
export const AddLeadsAnswerSchema = z.union([ClassicAddLeadsAnswerSchema, NewAddLeadsAnswerSchema]);

export const CampaignSchema = z.looseObject({
  id: z.number().int(),
  name: z.string(),
  // Not an enum: SmartLead's references disagree on the states (DRAFTED, ACTIVE, PAUSED, STOPPED, ARCHIVED...).
  status: z.string(),
  created_at: OptionalText,
  updated_at: OptionalText,
  client_id: z.number().int().nullish(),
});
export type Campaign = z.infer<typeof CampaignSchema>;

export const CampaignListSchema = z.array(CampaignSchema);

export const CampaignLeadSchema = z.looseObject({
  campaign_lead_map_id: z.number().int(),
  lead_category_id: z.number().int().nullish(),
  status: z.string(),
  created_at: OptionalText,
  lead: z.looseObject({
    id: z.number().int(),
    email: z.string(),
    first_name: OptionalText,
    last_name: OptionalText,
    phone_number: OptionalText,
    company_name: OptionalText,
    website: OptionalText,
    location: OptionalText,
    linkedin_profile: OptionalText,
    company_url: OptionalText,
    custom_fields: z.record(z.string(), z.unknown()).nullish(),
  }),
});
export type CampaignLead = z.infer<typeof CampaignLeadSchema>;

/** GET /campaigns/{id}/leads: one page; `total_leads` is a string in SmartLead's own example. */
export const CampaignLeadsPageSchema = z.looseObject({
  total_leads: Count,
  offset: Count,
  limit: Count,
  data: z.array(CampaignLeadSchema),
});
export type CampaignLeadsPage = z.infer<typeof CampaignLeadsPageSchema>;

/** POST /campaigns/{id}/leads/{lead_id}. */
export const UpdateLeadAnswerSchema = z.looseObject({ ok: z.literal(true) });

/** GET /campaigns/{id}/analytics: the top-level counts (strings in older answers); the rest is kept as sent. */
export const CampaignAnalyticsSchema = z.looseObject({
  id: z.number().int().optional(),
  name: z.string().optional(),
  status: z.string().optional(),
  sent_count: Count.optional(),
  open_count: Count.optional(),
  click_count: Count.optional(),
  reply_count: Count.optional(),
  bounce_count: Count.optional(),
  unsubscribed_count: Count.optional(),
  block_count: Count.optional(),
  total_count: Count.optional(),
});
export type CampaignAnalytics = z.infer<typeof CampaignAnalyticsSchema>;

/**
 * What a failure may carry, in any of the shapes SmartLead uses: `{error:{code, message, retry_after}}`,
 * `{error: "text"}`, `{message: "Invalid API Key"}`, and `success:false` / `ok:false` on HTTP 200.
 */
export const FailureBodySchema = z.looseObject({
  error: z
    .union([
      z.string(),
      z.looseObject({ code: OptionalText, message: OptionalText, retry_after: z.number().nonnegative().nullish() }),
    ])
    .nullish(),
  message: OptionalText,
  success: z.boolean().optional(),
  ok: z.boolean().optional(),
});
export type FailureBody = z.infer<typeof FailureBodySchema>;
