import { z } from 'zod';

/** Request bodies as SmartLead's API reference shows them. */

const Text = z.union([z.string(), z.number(), z.boolean()]).transform(String);

/** One lead: an `email` string (its format is checked per lead, not here), SmartLead's fields, and custom ones. */
export const LeadSchema = z.looseObject({
  email: z.string(),
  first_name: z.string().nullish(),
  last_name: z.string().nullish(),
  phone_number: Text.nullish(),
  company_name: z.string().nullish(),
  website: z.string().nullish(),
  location: z.string().nullish(),
  linkedin_profile: z.string().nullish(),
  company_url: z.string().nullish(),
  custom_fields: z.record(z.string(), Text.nullable()).nullish(),
});
export type Lead = z.infer<typeof LeadSchema>;

// The documented lead fields: one list, shared with the client that sends them.
export { STANDARD_FIELDS } from '../fields.js';

export const AddLeadsSettingsSchema = z
  .object({
    ignore_global_block_list: z.boolean().default(false),
    ignore_unsubscribe_list: z.boolean().default(false),
    ignore_community_bounce_list: z.boolean().default(false),
    ignore_duplicate_leads_in_other_campaign: z.boolean().default(false),
  })
  .strict();
export type AddLeadsSettings = z.infer<typeof AddLeadsSettingsSchema>;

/** POST /campaigns/{id}/leads. The list's length is checked before its leads, to answer over-size with 422. */
export const AddLeadsBodySchema = z.object({
  lead_list: z.array(z.unknown()),
  settings: AddLeadsSettingsSchema.nullish(),
});

export const LeadListSchema = z.array(LeadSchema);

export const LeadsPageQuerySchema = z.object({
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(100, 'limit is at most 100').default(100),
});

/** A campaign to create, from the simulator's options or its admin API. */
export const CampaignSeedSchema = z
  .object({
    id: z.number().int().positive().optional(),
    name: z.string().min(1).optional(),
    status: z.string().min(1).default('ACTIVE'),
  })
  .strict();
export type CampaignSeed = z.input<typeof CampaignSeedSchema>;
