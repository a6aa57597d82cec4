// Workflow-safe: zod and types only. The half of a source kind the sync workflow runs: its reference, how a person
// reads it, and where an incremental sync starts next. Opening it is I/O, in src/sources/.
import { z } from 'zod';
import type { Position, Since } from './source-refs.js';

/** A source, as people and Temporal's lists read it. */
export interface SourceDescription {
  /** Unique across kinds, what a sync is searched by: `csv:/data/leads.csv`, `postgres:main/public.leads`. */
  address: string;
  /** What a person reads in a summary: the file's path, `table public.leads`. */
  label: string;
  /** Short enough for an id: the file's name, the table's. */
  name: string;
  /** How an incremental source follows changes, when it does: `changes by updated_at`. */
  changes?: string;
}

/** How a kind of source is read in increments: each sync after the last row the one before it landed. */
export interface Increments<Ref> {
  /**
   * Where the next sync starts, given the position of the last row that landed (null when none did); undefined
   * when this reference is read whole every time.
   */
  sinceAfter(ref: Ref, landed: Position | null): Since | undefined;
  /** The reference read from `since` on. */
  resumeFrom(ref: Ref, since: Since): Ref;
}

/** The workflow-safe half of a source kind. Its `schema` is an object schema whose `kind` is the kind's literal. */
export interface SourceRefKind<Ref extends { kind: string }> {
  kind: Ref['kind'];
  schema: z.ZodType<Ref, Ref>;
  describe(ref: Ref): SourceDescription;
  /** Absent for a kind read whole every time. */
  increments?: Increments<Ref>;
}

/** The reference type of a list of kinds: one member per kind. */
export type RefOf<Kind> = Kind extends SourceRefKind<infer Ref> ? Ref : never;

/** What the rest of leadsync knows of sources: derived from the list of kinds, never written per kind. */
export interface SourceRefKinds<Ref extends { kind: string }> {
  /** A reference of any listed kind, told apart by `kind`. */
  schema: z.ZodType<Ref, Ref>;
  kinds: readonly Ref['kind'][];
  /** The kind a reference names. */
  kindOf(ref: Ref): SourceRefKind<Ref>;
  describe(ref: Ref): SourceDescription;
  sinceAfter(ref: Ref, landed: Position | null): Since | undefined;
  /** The reference read from `since` on: unchanged for a kind read whole every time. */
  resumeFrom(ref: Ref, since: Since): Ref;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a list of kinds, each with its own reference
export function sourceRefKinds<const Kinds extends readonly SourceRefKind<any>[]>(
  kinds: Kinds,
): SourceRefKinds<RefOf<Kinds[number]>> {
  type Ref = RefOf<Kinds[number]>;
  const byKind = new Map<string, SourceRefKind<Ref>>(kinds.map((kind) => [kind.kind, kind]));
  if (byKind.size !== kinds.length) throw new Error('two source kinds share a name');
  const of = (ref: Ref): SourceRefKind<Ref> => byKind.get(ref.kind)!;
  const schemas = kinds.map((kind) => kind.schema) as unknown as [z.ZodObject, ...z.ZodObject[]];
  return {
    schema: z.discriminatedUnion('kind', schemas) as unknown as z.ZodType<Ref, Ref>,
    kinds: kinds.map((kind) => kind.kind),
    kindOf: of,
    describe: (ref) => of(ref).describe(ref),
    sinceAfter: (ref, landed) => of(ref).increments?.sinceAfter(ref, landed),
    resumeFrom: (ref, since) => of(ref).increments?.resumeFrom(ref, since) ?? ref,
  };
}
