// Workflow-safe: zod only. The source kinds a sync can read, one line each; what a kind is: source-kind.ts.
import type { z } from 'zod';
import { sourceRefKinds } from './source-kind.js';
import { csvRef, ndjsonRef } from './file-refs.js';
import { postgresRef } from './postgres-ref.js';
import { rejectedRefKind } from './rejected-ref.js';

/** The kinds whose rows come from a file or a table: what a sync's rejected rows are found again in. */
export const READ_SOURCE_REFS = sourceRefKinds([csvRef, ndjsonRef, postgresRef]);
export type ReadSourceRef = z.infer<typeof READ_SOURCE_REFS.schema>;

export const rejectedRef = rejectedRefKind(READ_SOURCE_REFS);

/** Each kind's I/O half is listed the same way in src/sources/registry.ts. */
export const SOURCE_REFS = sourceRefKinds([csvRef, ndjsonRef, postgresRef, rejectedRef]);

/** Where a sync reads its rows. Only this reference crosses Temporal: never the rows themselves. */
export const SourceRefSchema = SOURCE_REFS.schema;
export type SourceRef = z.infer<typeof SourceRefSchema>;

/** The one description of a source: summaries, schedules, ids and the search attribute all take theirs from it. */
export const describeSource = SOURCE_REFS.describe;
