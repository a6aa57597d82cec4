import { ConfigError } from '../core/errors.js';
import { admitSourceFile, type SourceBoundary } from './boundary.js';
import { CsvSource } from './csv.js';
import { NdjsonSource } from './ndjson.js';
import { openPostgresSource } from './postgres.js';
import type { SourceRef } from '../core/source-refs.js';
import type { Source } from './source.js';

/** What opening a source may need beyond its reference: secrets and the boundary stay here, never in the reference. */
export interface SourceContext {
  /** What the worker's config lets a sync read: nothing outside it is opened. */
  boundary: SourceBoundary;
  /** The connection string of a configured PostgreSQL connection, by name. */
  resolvePostgresConnection?: (name: string) => string;
  /** How far before its mark an incremental sync of the connection starts reading (seconds; 0 when absent). */
  postgresLookBackSeconds?: (name: string) => number;
}

/**
 * Opens the source a reference names, inside the boundary: a file by its real path once it is found under a root, a
 * table once its connection's list allows it (checked before its first query). Adding a source kind is one case here
 * and one schema in types.ts.
 */
export async function openSource(ref: SourceRef, context: SourceContext): Promise<Source> {
  switch (ref.kind) {
    case 'csv':
      return new CsvSource(await admitSourceFile(ref.path, context.boundary));
    case 'ndjson':
      return new NdjsonSource(await admitSourceFile(ref.path, context.boundary));
    case 'postgres':
      if (!context.resolvePostgresConnection) {
        throw new ConfigError(`PostgreSQL source ${ref.table}: no PostgreSQL connections are configured`);
      }
      return openPostgresSource(
        ref,
        context.resolvePostgresConnection,
        context.boundary,
        context.postgresLookBackSeconds?.(ref.connection),
      );
  }
}
