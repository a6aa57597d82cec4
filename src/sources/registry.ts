import { ConfigError } from '../config/errors.js';
import { CsvSource } from './csv.js';
import { NdjsonSource } from './ndjson.js';
import { openPostgresSource } from './postgres.js';
import type { Source, SourceRef } from './types.js';

/** What opening a source may need beyond its reference: secrets stay here, never in the reference. */
export interface SourceContext {
  /** The connection string of a configured PostgreSQL connection, by name. */
  resolvePostgresConnection?: (name: string) => string;
}

/** Opens the source a reference names; adding a source kind is one case here and one schema in types.ts. */
export function openSource(ref: SourceRef, context: SourceContext = {}): Source {
  switch (ref.kind) {
    case 'csv':
      return new CsvSource(ref.path);
    case 'ndjson':
      return new NdjsonSource(ref.path);
    case 'postgres':
      if (!context.resolvePostgresConnection) {
        throw new ConfigError(`PostgreSQL source ${ref.table}: no PostgreSQL connections are configured`);
      }
      return openPostgresSource(ref, context.resolvePostgresConnection);
  }
}
