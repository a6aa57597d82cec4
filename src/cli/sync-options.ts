import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { findAccount, type LoadedConfig } from '../config/accounts.js';
import { ConfigError, formatZodIssues } from '../core/errors.js';
import { MappingSchema, type Mapping } from '../core/mapping.js';
import { SourceRefSchema, type SourceRef } from '../core/source-registry.js';
import { SOURCE_KINDS } from '../sources/registry.js';
import { SyncInputSchema, type SyncRequest } from '../core/contract.js';
import { PrioritySchema } from '../core/priority.js';
import { VENDORS, type VendorRegistry } from '../vendors/registry.js';
import { configPath, loadCliConfig } from './config-path.js';

/** What `sync` and `schedule create` both take to say what to push where; the vendors' target flags besides. */
export interface SyncOptions {
  config?: string;
  account: string;
  file?: string;
  sourceJson?: string;
  table?: string;
  connection?: string;
  key?: string;
  cursorColumn?: string;
  sinceJson?: string;
  records?: string;
  mapping?: string;
  share?: string;
  priority?: string;
}

/** The flags of SyncOptions, on a command that takes them. */
export function addSyncOptions(command: Command, registry: VendorRegistry = VENDORS, defaultShare = 1): Command {
  command
    .requiredOption('--account <name>', 'account of the config file to sync into')
    .option('--file <path>', 'CSV file with a header row, or NDJSON (.ndjson, .jsonl): one JSON object per line')
    .option('--table <name>', "PostgreSQL table or view (schema.table), read through a connection of the config's")
    .option('--connection <name>', 'with --table: a connection of sources.postgres in the config')
    .option('--key <column>', 'with --table: a unique, not-null column the rows are paged by')
    .option('--cursor-column <column>', 'with --table: push only rows changed since the last run (e.g. updated_at)')
    .option('--since-json <json>', 'with --cursor-column: start after this position, {"value":...,"key":...}')
    .option('--source-json <json>', 'the source as a SourceRef JSON object (kind csv, ndjson or postgres)')
    .option('--records <kind>', 'leads, or activities (EmailAddress, ActivityEvent, ActivityNote, ...)', 'leads')
    .option('--config <path>', 'config file (default: $LEADSYNC_CONFIG, else leadsync.yaml)')
    .option('--mapping <path>', 'JSON or YAML file: vendor field -> source column (default: columns named as fields)');
  for (const flag of registry.targetFlags()) command.option(flag.flags, flag.description);
  return command.option('--share <fraction>', 'use only this share of the plan, 0 < share <= 1', String(defaultShare));
}

/** `--priority`, on the commands that start syncs (a reconciliation always runs at low). */
export function addPriorityOption(command: Command): Command {
  return command.addOption(
    new Option('--priority <level>', 'which syncs on the account go first: their calls get the next slots')
      .choices(PrioritySchema.options)
      .default('normal'),
  );
}

/**
 * Checks the account, the source and the mapping file here, before a workflow exists, so a typo fails in a second
 * with its name. Connection strings stay in the config: the input names the connection.
 */
export async function syncRequestFrom(
  options: SyncOptions,
  registry: VendorRegistry = VENDORS,
): Promise<{ request: SyncRequest; config: LoadedConfig }> {
  const config = await loadCliConfig(configPath(options.config), registry);
  const account = findAccount(config, options.account);
  const share = Number(options.share ?? '1');
  if (!(share > 0 && share <= 1)) {
    throw new ConfigError(`--share: must be above 0 and at most 1, not '${options.share}'`);
  }
  const source = sourceRef(options);
  if (source.kind === 'postgres' && !Object.hasOwn(config.postgresConnections, source.connection)) {
    const known = Object.keys(config.postgresConnections);
    throw new ConfigError(
      `no PostgreSQL connection named '${source.connection}' in ${config.path} (configured: ${known.join(', ') || 'none'})`,
    );
  }
  const parsed = SyncInputSchema.safeParse({
    account: account.name,
    source,
    records: options.records ?? 'leads',
    ...(options.mapping ? { mapping: await readMapping(options.mapping) } : {}),
    target: targetFrom(options, registry),
    share,
    ...(options.priority !== undefined ? { priority: options.priority } : {}),
  });
  if (!parsed.success) throw new ConfigError(`invalid sync input:\n${formatZodIssues(parsed.error)}`);
  return { request: parsed.data, config };
}

/** The keys of a sync's target the vendors' target flags set (SmartLead's --campaign: campaignId). */
export function targetFrom(options: SyncOptions, registry: VendorRegistry = VENDORS): Record<string, unknown> {
  const given = new Map<string, unknown>(Object.entries(options));
  return Object.fromEntries(
    registry.targetFlags().flatMap((flag) => {
      const value = given.get(new Option(flag.flags).attributeName());
      return value ? [[flag.targetKey, value]] : [];
    }),
  );
}

/** Exactly one of --file, --table or --source-json says where the rows are. */
export function sourceRef(options: SyncOptions): SourceRef {
  const given = (['file', 'table', 'sourceJson'] as const).filter((flag) => options[flag] !== undefined);
  if (given.length !== 1) {
    throw new ConfigError(
      `name the source with exactly one of --file, --table or --source-json${given.length ? ` (got ${given.map(flagName).join(' and ')})` : ''}`,
    );
  }
  const tableFlags = (['connection', 'key', 'cursorColumn', 'sinceJson'] as const).filter((f) => options[f]);
  if (!options.table && tableFlags.length > 0) {
    throw new ConfigError(`${tableFlags.map(flagName).join(', ')}: only with --table`);
  }
  let raw: unknown;
  if (options.file !== undefined) {
    // A file no kind claims by its ending is read as CSV, the format most exports come in.
    raw = { kind: SOURCE_KINDS.kindOfFile(options.file) ?? 'csv', path: resolve(options.file) };
  } else if (options.table !== undefined) {
    raw = {
      kind: 'postgres',
      table: options.table,
      connection: options.connection,
      key: options.key,
      ...(options.cursorColumn ? { cursorColumn: options.cursorColumn } : {}),
      ...(options.sinceJson ? { since: parseJson('--since-json', options.sinceJson) } : {}),
    };
  } else {
    raw = parseJson('--source-json', options.sourceJson!);
  }
  const parsed = SourceRefSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`invalid source:\n${formatZodIssues(parsed.error)}`);
  return SOURCE_KINDS.anchor(parsed.data);
}

function parseJson(flag: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${flag}: not valid JSON: ${(err as Error).message}`);
  }
}

function flagName(option: string): string {
  return `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

async function readMapping(path: string): Promise<Mapping> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`--mapping: cannot read ${path}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = extname(path) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(
      `--mapping: ${path} is not valid ${extname(path) === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}`,
    );
  }
  const mapping = MappingSchema.safeParse(raw);
  if (!mapping.success) {
    throw new ConfigError(`--mapping: invalid mapping in ${path}:\n${formatZodIssues(mapping.error)}`);
  }
  return mapping.data;
}
