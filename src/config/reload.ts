import { isDeepStrictEqual } from 'node:util';
import { ConfigError } from '../core/errors.js';
import type { LoadedConfig } from './accounts.js';

/** What a config reload does to a worker's accounts, by name. */
export interface AccountChanges {
  added: string[];
  changed: string[];
  removed: string[];
}

/**
 * The parts of a config a reload does not take, each with the file's key it comes from and what of it to compare.
 * A running sync was prepared against them (its rejects' place, its source's boundary, its alerts, the queues it was
 * routed to), so they change with a restart only. Keyed by every field of LoadedConfig but its accounts: a field added
 * there must be placed here, or this does not compile.
 */
const RESTART_ONLY: {
  [K in Exclude<keyof LoadedConfig, 'path' | 'accounts'>]-?: [key: string, read: (config: LoadedConfig) => unknown];
} = {
  postgresConnections: ['sources.postgres', (config) => config.postgresConnections],
  boundary: ['sources.files.roots', (config) => config.boundary.fileRoots],
  rejectsDirectory: ['rejects.directory', (config) => config.rejectsDirectory],
  rejectsTable: ['rejects.table', (config) => config.rejectsTable],
  convergence: ['convergence', (config) => config.convergence],
  temporal: ['temporal', (config) => config.temporal],
  alerts: ['alerts', (config) => config.alerts],
  worker: ['worker', (config) => config.worker],
  // The workers watch the directory they started with.
  accountFiles: ['accountFiles', (config) => config.accountFiles],
};

/**
 * What reloading `next` over `running` changes, checked before anything changes: a reload takes accounts, added,
 * changed and removed, and refuses the whole file, naming it and each key, when anything else changed (see
 * RESTART_ONLY) or an account changed vendor (its syncs' chunks were cut for the other vendor's records).
 */
export function reloadChanges(running: LoadedConfig, next: LoadedConfig): AccountChanges {
  const restartOnly = Object.values(RESTART_ONLY).flatMap(([key, read]) => changedKeys(key, read(running), read(next)));
  const changes = accountChanges(running, next);
  const vendorChanged = changes.changed.filter(
    (name) => running.accounts[name]!.vendor !== next.accounts[name]!.vendor,
  );
  const refused = [...restartOnly, ...vendorChanged.map((name) => `accounts.${name}.vendor`)];
  if (refused.length > 0) {
    throw new ConfigError(
      `${next.path}: ${refused.join(', ')}: changed, and only a restart takes ${refused.length > 1 ? 'these' : 'this'} ` +
        '(a reload takes accounts added, changed and removed; an account of another vendor takes a new name)',
    );
  }
  return changes;
}

/** The accounts `next` adds, changes (any key, its plan's lanes included) and removes, by name. */
export function accountChanges(running: LoadedConfig, next: LoadedConfig): AccountChanges {
  const before = Object.keys(running.accounts);
  const after = Object.keys(next.accounts);
  return {
    added: after.filter((name) => !Object.hasOwn(running.accounts, name)),
    changed: after.filter(
      (name) =>
        Object.hasOwn(running.accounts, name) && !isDeepStrictEqual(running.accounts[name], next.accounts[name]),
    ),
    removed: before.filter((name) => !Object.hasOwn(next.accounts, name)),
  };
}

/** The key, or those of its own keys one level down that differ, so an error names what to put back. */
function changedKeys(key: string, before: unknown, after: unknown): string[] {
  if (isDeepStrictEqual(before, after)) return [];
  if (!isPlainObject(before) || !isPlainObject(after)) return [key];
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((sub) => !isDeepStrictEqual(before[sub], after[sub])).map((sub) => `${key}.${sub}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
