import { z } from 'zod';
import type { RejectsOwner, RejectsReport } from '../core/rejects-ref.js';

/**
 * A row that did not land: which row, which field (when one is to blame), and why, in the vendor's words if theirs.
 * No row: a number of rows the vendor refused without naming them (the reason says how many and why; see
 * `unattributedReject`), as guessing which would lose a good row or keep a bad one.
 */
export const RejectSchema = z.object({
  row: z.number().int().positive().optional(),
  field: z.string().optional(),
  reason: z.string(),
  /** The row's key in a source that has one (a table's): how a retry finds it again (`leadsync rejects retry`). */
  key: z.string().optional(),
});
export type Reject = z.infer<typeof RejectSchema>;

/** The report's line for `count` rows of a chunk the vendor refused for `reason` without naming them. */
export function unattributedReject(count: number, reason: string): Reject {
  return { reason: `${count} row${count === 1 ? '' : 's'} refused by the vendor, not named: ${reason}` };
}

/** Rows the rejects name, each once however many fields it failed on. */
export function rejectedRows(rejects: readonly Reject[]): number {
  return new Set(rejects.flatMap((reject) => (reject.row === undefined ? [] : [reject.row]))).size;
}

/**
 * Where a sync's rejected rows are kept, whatever holds them. Every chunk writes its own rejects, replacing what an
 * earlier attempt of the same chunk wrote, so a retried chunk reports once; nothing is gathered in the workflow. Each
 * run of a sync id keeps its own: a sync that uses a closed sync's id again leaves that sync's rejects as they were.
 */
export interface RejectsSink {
  /**
   * Before the first vendor call: makes sure the sync's rejects can be kept, so a sink that cannot take them fails
   * the sync before anything is sent.
   */
  prepare(): Promise<void>;
  /** The chunk's rejects (none is an answer too: an earlier attempt may have rejected rows this one landed). */
  writeChunk(owner: RejectsOwner, firstRow: number, rejects: readonly Reject[]): Promise<void>;
  /** Once every chunk is done: where exactly this run's rejects are, or undefined when no row was rejected. */
  report(owner: RejectsOwner): Promise<RejectsReport>;
  /**
   * A finished run's rejects, in row order (a row's fields together; a chunk's rows not named after its rows), read a
   * page at a time: a million rejects never sit in memory.
   */
  read(owner: RejectsOwner): AsyncIterable<Reject>;
  /** Lets go of what the sink holds open (a database pool lease). */
  close(): Promise<void>;
}

/** What opening a sink may need beyond its reference: secrets stay here, never in the reference. */
export interface RejectsSinkContext {
  /** The connection string of a configured PostgreSQL connection, by name. */
  resolvePostgresConnection: (name: string) => string;
}
