import { z } from 'zod';

/**
 * LeadSquared's answers, as documented (apidocs.leadsquared.com) and as the seed shows them. Unknown keys are
 * dropped rather than refused: the vendor adds fields to its answers, and we only read the ones named here.
 */

/** Every failure: the HTTP status varies (even 200 for a rate limit), this envelope does not. */
export const ErrorEnvelopeSchema = z
  .object({
    Status: z.literal('Error'),
    ExceptionType: z.string().optional(),
    ExceptionMessage: z.string().optional(),
    // The seed's own sample reads the rate-limit text from `Message`, not `ExceptionMessage`.
    Message: z.string().optional(),
  })
  .refine((e) => e.ExceptionType ?? e.ExceptionMessage ?? e.Message, 'an error envelope says what went wrong');
export type ErrorEnvelope = z.infer<typeof ErrorEnvelopeSchema>;

/** Lead.CreateOrUpdate and ProspectActivity.svc/Create: `Id` is the lead's ProspectID or the activity's Id. */
export const SuccessEnvelopeSchema = z.object({
  Status: z.literal('Success'),
  Message: z.object({
    Id: z.string().min(1),
    AffectedRows: z.number().int().optional(),
  }),
});

/** Leads.GetByEmailaddress: flat lead objects, `[]` when no lead has the address. */
export const LeadLookupSchema = z.array(z.object({ ProspectID: z.string().min(1) }));

/**
 * Leads.GetByEmailaddress read whole (apidocs: get-a-lead-by-email-id): every field of the lead by schema name, `null`
 * where it holds nothing, counts as strings ("Score": "-10"). Each value is read as the text a sync would have sent.
 */
export const LeadCopiesSchema = z.array(
  z
    .looseObject({ ProspectID: z.string().min(1) })
    .transform((lead) =>
      Object.fromEntries(
        Object.entries(lead).map(([field, value]) => [
          field,
          value === null || value === undefined
            ? ''
            : typeof value === 'object'
              ? JSON.stringify(value)
              : String(value),
        ]),
      ),
    ),
);

/**
 * One row of a bulk answer: a result, or the reason the vendor refused that row. RowNumber is 1-based; the activity
 * page's example shows `ProspectActivityId` first and may have none, so a row without one is read by its place.
 */
export const BulkRowResultSchema = z.object({
  RowNumber: z.number().int().positive().optional(),
  LeadId: z.string().nullish(),
  LeadCreated: z.boolean().nullish(),
  LeadUpdated: z.boolean().nullish(),
  ProspectActivityId: z.string().nullish(),
  ExceptionType: z.string().nullish(),
  ExceptionMessage: z.string().nullish(),
  Message: z.string().nullish(),
});
export type BulkRowResult = z.infer<typeof BulkRowResultSchema>;

/**
 * ProspectActivity.svc/Retrieve (apidocs: get-activities-of-a-lead): one page of a lead's activities and how many
 * there are in all. There is no top-level note or time: the time is `CreatedOn` ('YYYY-MM-DD HH:MM:SS', UTC) and the
 * note and custom fields are `Data` entries (the note under `ActivityEvent_Note`), beside system keys.
 */
export const RetrievedActivitiesSchema = z.object({
  RecordCount: z.coerce.number().int().min(0),
  ProspectActivities: z
    .array(
      z.object({
        Id: z.string().nullish(),
        EventCode: z.coerce.number().int(),
        CreatedOn: z.string().nullish(),
        Data: z.array(z.object({ Key: z.string(), Value: z.unknown() })).nullish(),
      }),
    )
    .nullish()
    .transform((activities) => activities ?? []),
});
export type RetrievedActivities = z.infer<typeof RetrievedActivitiesSchema>;
