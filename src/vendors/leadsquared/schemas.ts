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

/** One row of a bulk answer: a result, or the reason the vendor refused that row. RowNumber is 1-based. */
export const BulkRowResultSchema = z.object({
  RowNumber: z.number().int().positive(),
  LeadId: z.string().nullish(),
  LeadCreated: z.boolean().nullish(),
  LeadUpdated: z.boolean().nullish(),
  ProspectActivityId: z.string().nullish(),
  ExceptionType: z.string().nullish(),
  ExceptionMessage: z.string().nullish(),
  Message: z.string().nullish(),
});
export type BulkRowResult = z.infer<typeof BulkRowResultSchema>;

/** Lead/Bulk/CreateOrUpdate: one result per row sent. */
export const BulkLeadAnswerSchema = z.array(BulkRowResultSchema);

/** ProspectActivity.svc/Bulk/CustomActivity/Add/*: the same per-row results, under `Response`. */
export const BulkActivityAnswerSchema = z.object({ Response: z.array(BulkRowResultSchema) });

/** ProspectActivity.svc/Retrieve: one page of a lead's activities, and how many there are in all. */
export const RetrievedActivitiesSchema = z.object({
  RecordCount: z.number().int().min(0),
  ProspectActivities: z.array(
    z.object({
      EventCode: z.number().int(),
      ActivityNote: z.string().nullish(),
      ActivityDateTime: z.string().nullish(),
      Data: z.array(z.object({ Key: z.string(), Value: z.string().nullish() })).nullish(),
    }),
  ),
});
export type RetrievedActivities = z.infer<typeof RetrievedActivitiesSchema>;
