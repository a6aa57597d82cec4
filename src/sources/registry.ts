import { CsvSource } from './csv.js';
import type { Source, SourceRef } from './types.js';

/** Opens the source a reference names; adding a source kind is one case here and one schema in types.ts. */
export function openSource(ref: SourceRef): Source {
  switch (ref.kind) {
    case 'csv':
      return new CsvSource(ref.path);
  }
}
