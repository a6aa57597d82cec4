import { ConfigError, formatZodIssues } from '../core/errors.js';
import { RejectsTableRefSchema, type RejectsRef } from '../core/rejects-ref.js';
import { openTableRejectsSink } from './table.js';
import { FileRejectsSink } from './files.js';
import type { RejectsSink, RejectsSinkContext } from './types.js';

/** The sink a reference names: its table when it has one, else files under its directory. */
export function openRejectsSink(ref: RejectsRef, context: RejectsSinkContext): RejectsSink {
  if (ref.rejectsTable) {
    // The reference crossed Temporal: it is checked again before any of it reaches SQL.
    const table = RejectsTableRefSchema.safeParse(ref.rejectsTable);
    if (!table.success) throw new ConfigError(`invalid rejects table reference:\n${formatZodIssues(table.error)}`);
    return openTableRejectsSink(table.data, context.resolvePostgresConnection);
  }
  return new FileRejectsSink(ref.rejectsDirectory);
}
