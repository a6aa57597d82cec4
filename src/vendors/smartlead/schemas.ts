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
    ignore_community_bounce_list: z.boolean().optional(),
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

/** Leads the vendor counted as refused without naming them: they cannot be placed on a row. */
export interface UnnamedRefusal {
  count: number;
  reason: string;
}

/** Any add-leads answer, in one shape. */
export interface AddLeadsResult {
  addedCount: number;
  /** Refusals SmartLead names by address. A lead already in the campaign is not one: the upload is idempotent. */
  refused: RefusedLead[];
  /** Refusals an answer counts without naming the leads (`block_count`, `bounce_count`, a count of unsubscribed). */
  unnamedRefusals: UnnamedRefusal[];
  /**
   * Leads the answer says are in the campaign now: added, already there, or repeated in the upload. Undefined when
   * the answer does not count those already there, so presence cannot be told from its fields.
   */
  presentCount?: number;
}

const INVALID_EMAIL = 'invalid email address';
const BLOCKED = 'on the global block list';
const BOUNCED = 'on the bounce list';
const UNSUBSCRIBED = 'unsubscribed (SmartLead keeps unsubscribed addresses out of campaigns)';
const NOT_IMPORTED = "not imported: the SmartLead account's lead limit is exhausted";
const SKIPPED_WITHOUT_REASON = 'skipped by SmartLead (no reason given)';
/** Shown for rows the counts leave out: neither added, nor already there, nor refused for a stated cause. */
export const NOT_ADDED_WITHOUT_REASON = 'not added by SmartLead, and no count says why';
/**
 * A skipped lead that is already in the campaign (or repeated in the upload) is there: accepted, not refused. The
 * newer reference names no codes or wording for this; we read a machine code first, then the words any such reason
 * would use (assumed, see the corpus).
 */
const ALREADY_PRESENT = /duplicate|already|exists/i;

/** An address in a list of the classic answer: a string, or a lead object carrying it. */
const ListedEmailSchema = z.union([z.string(), z.looseObject({ email: z.string() }).transform((lead) => lead.email)]);
const ListedEmailsSchema = z.array(ListedEmailSchema);

/** Skipped leads come as addresses or as objects with a reason (or a code); the reference shows no more. */
const SkippedLeadSchema = z.union([
  z.string().transform((email) => ({ email, reason: undefined, present: false })),
  z
    .looseObject({ email: z.string(), reason: OptionalText, message: OptionalText, code: OptionalText })
    .transform((s) => {
      const reason = s.reason ?? s.message ?? undefined;
      return { email: s.email, reason, present: ALREADY_PRESENT.test(`${s.code ?? ''} ${reason ?? ''}`) };
    }),
]);

/**
 * POST /campaigns/{id}/leads, read leniently: SmartLead's pages and the clients written against it show three shapes
 * (the classic counts `{ok, upload_count, ...}`, the newer `{success, added_count, skipped_leads}`, the OpenAPI's
 * `{ok, inserted_count, blocked_count}`), lists where others have counts (`unsubscribed_leads`), and fields that come
 * and go (`invalid_emails`). Every field is optional but a count of added leads; what names a lead is placed on its
 * row, what only counts one is reported as an unnamed refusal.
 */
export const AddLeadsAnswerSchema = z
  .looseObject({
    upload_count: Count.optional(),
    added_count: Count.optional(),
    inserted_count: Count.optional(),
    // Leads already in the campaign, or repeated in the upload: present, so accepted.
    already_added_to_campaign: Count.optional(),
    duplicate_count: Count.optional(),
    invalid_email_count: Count.optional(),
    invalid_emails: ListedEmailsSchema.optional(),
    unsubscribed_leads: z.union([Count, ListedEmailsSchema]).optional(),
    block_count: Count.optional(),
    blocked_count: Count.optional(),
    bounce_count: Count.optional(),
    lead_import_stopped_count: Count.optional(),
    skipped_count: Count.optional(),
    skipped_leads: z.array(SkippedLeadSchema).optional(),
  })
  .refine(
    (a) => a.upload_count !== undefined || a.added_count !== undefined || a.inserted_count !== undefined,
    'no count of added leads (upload_count, added_count or inserted_count)',
  )
  .transform((a): AddLeadsResult => {
    const invalid = a.invalid_emails ?? [];
    const unsubscribed = Array.isArray(a.unsubscribed_leads) ? a.unsubscribed_leads : [];
    const skipped = a.skipped_leads ?? [];
    const addedCount = a.upload_count ?? a.added_count ?? a.inserted_count ?? 0;
    const alreadyThere =
      a.already_added_to_campaign !== undefined || a.duplicate_count !== undefined
        ? (a.already_added_to_campaign ?? 0) + (a.duplicate_count ?? 0)
        : a.skipped_leads !== undefined
          ? skipped.filter((s) => s.present).length
          : undefined;
    return {
      addedCount,
      presentCount: alreadyThere === undefined ? undefined : addedCount + alreadyThere,
      refused: [
        ...invalid.map((email) => ({ email, reason: INVALID_EMAIL })),
        ...unsubscribed.map((email) => ({ email, reason: UNSUBSCRIBED })),
        ...skipped
          .filter((s) => !s.present)
          .map((s) => ({ email: s.email, reason: s.reason || SKIPPED_WITHOUT_REASON })),
      ],
      unnamedRefusals: [
        { count: (a.invalid_email_count ?? 0) - invalid.length, reason: INVALID_EMAIL },
        { count: typeof a.unsubscribed_leads === 'number' ? a.unsubscribed_leads : 0, reason: UNSUBSCRIBED },
        { count: a.block_count ?? a.blocked_count ?? 0, reason: BLOCKED },
        { count: a.bounce_count ?? 0, reason: BOUNCED },
        { count: a.lead_import_stopped_count ?? 0, reason: NOT_IMPORTED },
        { count: (a.skipped_count ?? 0) - skipped.length, reason: SKIPPED_WITHOUT_REASON },
      ].filter((r) => r.count > 0),
    };
  });

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
