import { ConfigError, formatZodIssues } from '../core/errors.js';
import { RejectsTableRefSchema, type RejectsRef, type RejectsReport } from '../core/rejects-ref.js';
import { openTableRejectsSink } from './table.js';
import { FileRejectsSink, type Reject } from './files.js';

/**
 * Where a sync's rejected rows are kept, whatever holds them. Every chunk writes its own rejects, replacing what an
 * earlier attempt of the same chunk wrote, so a retried chunk reports once; nothing is gathered in the workflow.
 */
export interface RejectsSink {
  /**
   * Before the first vendor call: makes sure the sync's rejects can be kept, so a sink that cannot take them fails
   * the sync before anything is sent. Given the sync's id, it may clear what an earlier run of that id left.
   */
  prepare(syncId?: string): Promise<void>;
  /** The chunk's rejects (none is an answer too: an earlier attempt may have rejected rows this one landed). */
  writeChunk(syncId: string, firstRow: number, rejects: readonly Reject[]): Promise<void>;
  /** Once every chunk is done: where the sync's rejects are, or undefined when no row was rejected. */
  report(syncId: string): Promise<RejectsReport>;
  /** Lets go of what the sink holds open (a database pool lease). */
  close(): Promise<void>;
}

/** What opening a sink may need beyond its reference: secrets stay here, never in the reference. */
export interface RejectsSinkContext {
  /** The connection string of a configured PostgreSQL connection, by name. */
  resolvePostgresConnection: (name: string) => string;
}

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
