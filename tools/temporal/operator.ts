import type { Connection } from '@temporalio/client';
import type { SearchAttributeType } from '@temporalio/common';
// Not re-exported from the package index; the SDK exports it for registering search attributes.
import {
  encodeSearchAttributeIndexedValueType,
  _ as decodeSearchAttributeIndexedValueType,
} from '@temporalio/common/lib/search-attributes.js';
import type { SearchAttributeKey } from '../../src/core/search-attributes.js';

/** The namespace's custom search attributes, by name, as SDK types. */
export async function listCustomSearchAttributes(
  connection: Connection,
  namespace: string,
): Promise<Record<string, SearchAttributeType | undefined>> {
  const response = await connection.operatorService.listSearchAttributes({ namespace });
  return Object.fromEntries(
    Object.entries(response.customAttributes).map(([name, type]) => [
      name,
      decodeSearchAttributeIndexedValueType(type),
    ]),
  );
}

/**
 * Adds whichever of `keys` the namespace lacks: what the dev server's --search-attribute does at start, for a cluster
 * leadsync did not start. One registered under the same name with another type is a configuration error.
 */
export async function ensureSearchAttributes(
  connection: Connection,
  namespace: string,
  keys: readonly SearchAttributeKey[],
): Promise<void> {
  const existing = await listCustomSearchAttributes(connection, namespace);
  const clashes = keys.filter((key) => existing[key.name] !== undefined && existing[key.name] !== key.type);
  if (clashes.length) {
    throw new Error(
      `search attributes already registered with another type in namespace ${namespace}: ` +
        clashes.map((key) => `${key.name} is ${existing[key.name]}, leadsync needs ${key.type}`).join('; '),
    );
  }
  const missing = keys.filter((key) => existing[key.name] === undefined);
  if (!missing.length) return;
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(
      missing.map((key) => [key.name, encodeSearchAttributeIndexedValueType(key.type) as number]),
    ),
  });
}
