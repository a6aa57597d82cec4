// A source kind whole: its workflow-safe half (src/core/source-kind.ts) and how a worker opens it.
import { sourceRefKinds, type SourceRefKind, type SourceRefKinds, type RefOf } from '../core/source-kind.js';
import type { RejectedOf } from '../core/rejected-ref.js';
import type { SourceBoundary } from './boundary.js';
import type { Source } from './source.js';

/** A row a sync rejected: its number in that sync's source, and its key when the source has keys (a table). */
export interface RejectedRow {
  row: number;
  key?: string;
}

/** A sync's rejected rows, read back from wherever its config keeps rejects (src/rejects/). */
export interface RejectedRows {
  /** The rows numbered after `after`, in row order, each once, at most `limit`. */
  after(after: number, limit: number): Promise<RejectedRow[]>;
  /** How many rows (each once). */
  count(): Promise<number>;
  close(): Promise<void>;
}

/**
 * What the worker's config lets a sync read, handed to every kind's open: secrets and the boundary stay here, never
 * in the reference. Each kind opens only what its part of the config allows.
 */
export interface SourceContext {
  /** The files (under `sources.files.roots`) and tables (listed per connection) a sync may read. */
  boundary: SourceBoundary;
  /** The connection string of a configured PostgreSQL connection (`sources.postgres`), by name. */
  resolvePostgresConnection?: (name: string) => string;
  /** How far before its mark an incremental sync of the connection starts reading (seconds; 0 when absent). */
  postgresLookBackSeconds?: (name: string) => number;
  /** A finished sync's rejected rows, from where this worker's config keeps rejects (`leadsync rejects retry`). */
  rejectedRows?: (of: RejectedOf) => RejectedRows;
}

export interface SourceKind<Ref extends { kind: string }> extends SourceRefKind<Ref> {
  /** Opens the source a reference names, inside the context's boundary: nothing outside it is read. */
  open(ref: Ref, context: SourceContext): Promise<Source>;
  /** The reference as any worker reads it, wherever it was written (a file's path made absolute); absent: as is. */
  anchor?(ref: Ref): Ref;
  /** The endings (lower case, with the dot) of the files that are of this kind: how `--file` tells kinds apart. */
  fileExtensions?: readonly string[];
}

export interface SourceKinds<Ref extends { kind: string }> extends SourceRefKinds<Ref> {
  open(ref: Ref, context: SourceContext): Promise<Source>;
  anchor(ref: Ref): Ref;
  /** The kind of a file, by its name's ending; undefined for an ending no kind claims. */
  kindOfFile(path: string): Ref['kind'] | undefined;
}

/** The kinds of a list, opened by the kind each reference names: what the references' half derives, and open. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a list of kinds, each with its own reference
export function sourceKinds<const Kinds extends readonly SourceKind<any>[]>(
  kinds: Kinds,
): SourceKinds<RefOf<Kinds[number]>> {
  type Ref = RefOf<Kinds[number]>;
  const refs = sourceRefKinds(kinds);
  const of = (ref: Ref) => refs.kindOf(ref) as SourceKind<Ref>;
  return {
    ...refs,
    open: (ref, context) => of(ref).open(ref, context),
    anchor: (ref) => of(ref).anchor?.(ref) ?? ref,
    kindOfFile: (path) =>
      kinds.find((kind) => kind.fileExtensions?.some((ending) => path.toLowerCase().endsWith(ending)))?.kind,
  };
}
