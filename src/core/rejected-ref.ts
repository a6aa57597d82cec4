// Workflow-safe: zod only. The rows a finished sync rejected, as a source of their own: `leadsync rejects retry`
// syncs them again through the same governor, checks and rejects sink as any source, by reference.
import { z } from 'zod';
import { RunIdSchema } from './rejects-ref.js';
import type { SourceRefKind, SourceRefKinds } from './source-kind.js';
import { FilePinSchema } from './source-refs.js';

/** Whose rejected rows: a finished sync by its workflow id, and the run its rejects are kept under. */
export const RejectedOfSchema = z
  .object({
    syncId: z.string().min(1).max(1000),
    runId: RunIdSchema,
  })
  .strict();
export type RejectedOf = z.infer<typeof RejectedOfSchema>;

/**
 * The rejected rows of the kinds a sync reads (`inner`), found again in the source they came from: a file's by their
 * row numbers in the file as that sync read it (`pin`: the file must still be that version), a table's by their keys.
 */
export function rejectedRefKind<Inner extends { kind: string }>(inner: SourceRefKinds<Inner>) {
  const schema = z
    .object({
      kind: z.literal('rejected'),
      of: RejectedOfSchema,
      source: inner.schema,
      /** The file as the rejecting sync pinned it; absent for a table, whose rows are found by key. */
      pin: FilePinSchema.optional(),
    })
    .strict();
  return {
    kind: 'rejected',
    schema: schema as unknown as z.ZodType<RejectedRef<Inner>, RejectedRef<Inner>>,
    describe: (ref) => {
      const source = inner.describe(ref.source);
      return {
        address: `rejected:${ref.of.syncId}/${ref.of.runId}`,
        label: `the rows sync ${ref.of.syncId} rejected from ${source.label}`,
        name: `rejected-${source.name}`,
      };
    },
  } satisfies SourceRefKind<RejectedRef<Inner>>;
}

export interface RejectedRef<Inner> {
  kind: 'rejected';
  of: RejectedOf;
  source: Inner;
  pin?: z.infer<typeof FilePinSchema>;
}
