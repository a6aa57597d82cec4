// Workflow-safe: zod only. The source kinds a sync can read, one line each; what a kind is: source-kind.ts.
import type { z } from 'zod';
import { sourceRefKinds } from './source-kind.js';
import { csvRef, ndjsonRef } from './file-refs.js';
import { postgresRef } from './postgres-ref.js';

/** Each kind's I/O half is listed the same way in src/sources/registry.ts. */
export const SOURCE_REFS = sourceRefKinds([csvRef, ndjsonRef, postgresRef]);

/** Where a sync reads its rows. Only this reference crosses Temporal: never the rows themselves. */
export const SourceRefSchema = SOURCE_REFS.schema;
export type SourceRef = z.infer<typeof SourceRefSchema>;

/** The one description of a source: summaries, schedules, ids and the search attribute all take theirs from it. */
export const describeSource = SOURCE_REFS.describe;
