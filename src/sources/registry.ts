// The source kinds a worker can open, one line each, in the order of src/core/source-registry.ts.
import { csvKind } from './csv.js';
import { ndjsonKind } from './ndjson.js';
import { postgresKind } from './postgres.js';
import { rejectedKind } from './rejected.js';
import { sourceKinds } from './source-kind.js';

/** The kinds whose rows come from a file or a table, as src/core/source-registry.ts lists them. */
const READ_SOURCE_KINDS = sourceKinds([csvKind, ndjsonKind, postgresKind]);

/** The list the registry is built from: a test extends it with a kind of its own. */
export const SOURCE_KIND_LIST = [csvKind, ndjsonKind, postgresKind, rejectedKind(READ_SOURCE_KINDS)] as const;

export const SOURCE_KINDS = sourceKinds(SOURCE_KIND_LIST);

/**
 * Opens the source a reference names, inside the boundary: a file by its real path once it is found under a root, a
 * table once its connection's list allows it (checked before its first query).
 */
export const openSource = SOURCE_KINDS.open;
