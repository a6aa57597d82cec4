import { z } from 'zod';

/** Request bodies as LeadSquared documents them (apidocs.leadsquared.com); values may come as numbers or booleans. */

const Value = z
  .union([z.string(), z.number(), z.boolean()])
  .nullable()
  .transform((v) => (v === null ? '' : String(v)));

/** One `{Attribute, Value}` pair; custom field sets add `Fields`, which is kept unread. */
export const AttributeSchema = z.looseObject({ Attribute: z.string().min(1), Value });

/** A lead: Lead.CreateOrUpdate's body, and each element of Lead/Bulk/CreateOrUpdate's. */
export const LeadBodySchema = z.array(AttributeSchema).min(1, 'a lead needs at least one attribute');

/** Bulk bodies are arrays; their elements are read one by one, so one bad row does not sink the rest. */
export const BulkBodySchema = z.array(z.unknown());

const ActivityFields = {
  ActivityEvent: z.number().int(),
  ActivityNote: z.string().nullish(),
  ActivityDateTime: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/, 'ActivityDateTime must be UTC as YYYY-MM-DD HH:MM:SS')
    .nullish(),
  ActivityOwnerEmail: z.string().nullish(),
  Fields: z.array(z.looseObject({ SchemaName: z.string().min(1), Value })).default([]),
};

/** ProspectActivity.svc/Create. */
export const ActivityBodySchema = z.looseObject({ RelatedProspectId: z.string().min(1), ...ActivityFields });
export type ActivityBody = z.infer<typeof ActivityBodySchema>;

/** One element of ProspectActivity.svc/Bulk/CustomActivity/Add/ByLeadField. */
export const ActivityByLeadFieldSchema = z.looseObject({ SearchByValue: z.string().min(1), ...ActivityFields });
export type ActivityByLeadField = z.infer<typeof ActivityByLeadFieldSchema>;

/** ProspectActivity.svc/Retrieve?leadId=: a lead's activities, optionally of one event, a page at a time. */
export const RetrieveActivitiesBodySchema = z.looseObject({
  Parameter: z.looseObject({ ActivityEvent: z.coerce.number().int().nullish() }).optional(),
  // The page's example sends both as strings ("Offset":"0"): numbers or numeric strings.
  Paging: z
    .object({
      Offset: z.coerce.number().int().min(0).default(0),
      RowCount: z.coerce.number().int().min(1).max(1000).default(25),
    })
    .default({ Offset: 0, RowCount: 25 }),
});
