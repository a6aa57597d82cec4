import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import {
  LaneNameSchema,
  LanePlanSchema,
  PlanSchema,
  WindowSchema,
  findPlan,
  planNames,
  type Plan,
} from '../core/plans.js';
import { VENDORS, type VendorRegistry } from '../vendors/registry.js';
import type { Vendor } from '../vendors/types.js';
import type { SourceBoundary } from '../sources/boundary.js';
import { PostgresConnectionSchema, type PostgresConnection } from '../sources/postgres-connection.js';
import { RejectsTableRefSchema, type RejectsTableRef } from '../core/rejects-ref.js';
import { qualifiedNameSchema } from '../core/source-refs.js';
import { TemporalConfigSchema, type TemporalConfig } from './temporal.js';
import { WorkerConfigSchema, type WorkerConfig } from './worker.js';
import { AlertsConfigSchema, type AlertsConfig } from './alerts.js';
import { credentialsSchema } from './credentials.js';
import { ConfigError, formatZodIssues } from '../core/errors.js';
import { isHttpsOrLoopback } from '../core/loopback.js';
import { DEFAULT_MAX_ANSWER_BYTES } from '../vendors/http.js';

const LaneOverrideSchema = z
  .object({
    windows: z.array(WindowSchema).min(1).optional(),
    rowsPerCall: z.number().int().positive().optional(),
    alsoSpends: z.array(LaneNameSchema).optional(),
  })
  .strict();

/** How an account paces its calls; the margin's default is the vendor's (`Vendor.defaultMarginMs`). */
function pacingSchema(defaultMarginMs: number) {
  return z
    .object({
      /**
       * Slack added to every window: it absorbs how late a call may leave after its slot (up to half of it) and the
       * spread of network and event-loop delays on the way to the vendor. 150 ms let a 429 through on a loaded
       * 2-core machine; 300 ms costs 6% of a 5-second window, but 23% of a 1-second one, which wants about 100.
       */
      marginMs: z.number().int().min(0).max(10_000).default(defaultMarginMs),
    })
    .strict()
    .default({ marginMs: defaultMarginMs });
}

const AccountBaseSchema = z.object({
  /** A plan of the vendor's page (see `leadsync plans`), or `custom` with every lane's windows given. */
  plan: z.string().min(1),
  lanes: z.partialRecord(LaneNameSchema, LaneOverrideSchema).default({}),
  /**
   * The keys go with every call: https:// only, plain http:// only as far as this machine (a simulator, a local
   * proxy). No setting lets them cross a network in clear text.
   */
  baseUrl: z.url().refine(isHttpsOrLoopback, {
    message: 'must be https:// (http:// only to localhost, 127.0.0.0/8 or ::1): the keys go with every call',
  }),
  /** Request timeout per vendor call. */
  timeoutMs: z.number().int().positive().default(30_000),
  /**
   * The largest answer read from the vendor, in bytes: past it the call fails and the connection is closed, so an
   * answer cannot hold the worker's memory hostage.
   */
  maxAnswerBytes: z
    .number()
    .int()
    .min(64 * 1024)
    .max(256 * 1024 * 1024)
    .default(DEFAULT_MAX_ANSWER_BYTES),
});

/**
 * An account of one vendor: the common keys, and for each of the vendor's credentials an environment variable or a
 * secret file to read it from.
 */
function vendorAccountSchema(vendor: Vendor) {
  return AccountBaseSchema.extend({
    vendor: z.literal(vendor.name),
    credentials: credentialsSchema(vendor.credentialKeys),
    pacing: pacingSchema(vendor.defaultMarginMs),
  }).strict();
}

/** An account of any vendor of the registry, told apart by `vendor`. */
export function accountSchemaOf(registry: VendorRegistry) {
  const [first, ...more] = registry.vendors.map(vendorAccountSchema);
  if (!first) throw new Error('a vendor registry without vendors');
  return z.discriminatedUnion('vendor', [first, ...more]);
}

export const AccountSchema = accountSchemaOf(VENDORS);

const DEFAULT_REJECTS_DIRECTORY = '.leadsync/rejects';

/**
 * Where rejected rows go: `{ directory }` (the default: per-chunk files and a CSV report per sync on the workers'
 * disk) or `{ table: { connection, table } }` (a PostgreSQL table of a configured connection, created if missing).
 * One strict object rather than a union of two, so a mistake is reported at its own key, not as "invalid input".
 */
const RejectsConfigSchema = z
  .object({
    directory: z.string().min(1, 'must be a directory path').optional(),
    table: RejectsTableRefSchema.optional(),
  })
  .strict()
  .refine((rejects) => rejects.directory === undefined || rejects.table === undefined, {
    message: 'give either directory (files) or table (PostgreSQL), not both',
  })
  .default({});

/**
 * How recurring syncs of a PostgreSQL table with a cursor column converge over runs (docs/operating.md#how-runs-converge):
 * the row store's table on a configured connection (created if missing), after how many failed runs a row counts as
 * stuck, and the opt-in changelog of each row's outcome per run, on the same connection.
 */
const ConvergenceConfigSchema = z
  .object({
    table: RejectsTableRefSchema,
    stuckAfterRuns: z.number().int().min(1).max(1000).default(5),
    changelog: z
      .object({
        table: qualifiedNameSchema('table'),
        retentionDays: z.number().int().min(1).max(3650).default(90),
      })
      .strict()
      .optional(),
  })
  .strict();
export type ConvergenceConfig = z.infer<typeof ConvergenceConfigSchema>;

/** Accounts by name, each of a vendor of the registry. */
function accountsSchemaOf(registry: VendorRegistry) {
  return z.record(
    z.string().regex(/^[a-z0-9][a-z0-9-_]*$/i, 'account names are letters, digits, - and _'),
    accountSchemaOf(registry),
  );
}

export const ConfigFileSchema = z
  .object({
    accounts: accountsSchemaOf(VENDORS),
    /**
     * What syncs may read. Named data sources whose secrets stay in the worker: a sync's reference names the
     * connection, never the URL, and only the tables the connection lists. Files only under `files.roots`.
     */
    sources: z
      .object({
        files: z
          .object({
            /** Directories source files may be read from, relative to the config file; its own directory by default. */
            roots: z.array(z.string().min(1, 'must be a directory path')).min(1).optional(),
          })
          .strict()
          .default({}),
        postgres: z
          .record(
            z.string().regex(/^[a-z0-9][a-z0-9-_]*$/i, 'connection names are letters, digits, - and _'),
            PostgresConnectionSchema,
          )
          .default({}),
      })
      .strict()
      .default({ files: {}, postgres: {} }),
    rejects: RejectsConfigSchema,
    convergence: ConvergenceConfigSchema.optional(),
    /** Where Temporal is and how to authenticate; the TEMPORAL_* environment variables win over it. */
    temporal: TemporalConfigSchema.optional(),
    /** Webhooks told when a sync fails, a schedule pauses, or a run passes a threshold (docs/operating.md#alerts). */
    alerts: AlertsConfigSchema.optional(),
    /** Where chunks run: per-account queues (the default) or shared ones (src/config/worker.ts). */
    worker: WorkerConfigSchema,
    /**
     * A directory of account files, relative to this file: each YAML or JSON file in it holds `accounts` as this file
     * does, so that an account can be added or removed as a file of its own while workers run.
     */
    accountFiles: z.string().min(1, 'must be a directory path').optional(),
  })
  .strict();

export type AccountConfig = z.infer<typeof AccountSchema>;
export type ConfigFile = z.infer<typeof ConfigFileSchema>;

/** An account as the rest of the code sees it: config plus the effective plan, no secrets. */
export type Account = AccountConfig & { name: string; effectivePlan: Plan };

export interface LoadedConfig {
  path: string;
  accounts: Record<string, Account>;
  postgresConnections: Record<string, PostgresConnection>;
  /** The files and tables syncs may read: the worker opens nothing else a workflow input names. */
  boundary: SourceBoundary;
  /** Where rejects files go, and dry runs' reports always. */
  rejectsDirectory: string;
  /** When the config names one, syncs write their rejects to this table instead of files. */
  rejectsTable?: RejectsTableRef;
  /** When the config names a row store, syncs of a table with a cursor column converge over runs. */
  convergence?: ConvergenceConfig;
  temporal?: TemporalConfig;
  alerts?: AlertsConfig;
  worker: WorkerConfig;
  /** The directory of account files, whose accounts `accounts` holds with the file's own. */
  accountFiles?: string;
}

/**
 * Reads and validates a config file; every error names the file and the path of the bad key. Its accounts are of the
 * registry's vendors.
 */
export async function loadConfig(path: string, registry: VendorRegistry = VENDORS): Promise<LoadedConfig> {
  const absolute = resolve(path);
  const raw = await readConfigFile(absolute);
  const directory = isObject(raw) ? accountFilesOf(raw, absolute) : undefined;
  if (!isObject(raw) || directory === undefined) return parseConfig(raw, absolute, registry);
  return parseConfig(
    { ...raw, accounts: await withAccountFiles(raw, absolute, directory, registry) },
    absolute,
    registry,
  );
}

/** An object, as a config file's top level and its `accounts` must be: the schema says so of anything else. */
function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function readConfigFile(absolute: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${absolute}: ${(err as Error).message}`);
  }
  try {
    return absolute.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(
      `config file ${absolute} is not valid ${absolute.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`,
    );
  }
}

/** The directory `accountFiles` names, relative to the config file; the schema reports a value that is no path. */
function accountFilesOf(raw: Record<string, unknown>, path: string): string | undefined {
  const { accountFiles } = raw;
  return typeof accountFiles === 'string' && accountFiles !== '' ? resolve(dirname(path), accountFiles) : undefined;
}

/** The files of an account directory: YAML and JSON, hidden ones (an editor's swap file) left out, by name. */
export function accountFileNames(directory: string): string[] {
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch (err) {
    throw new ConfigError(`cannot read the account files' directory ${directory}: ${(err as Error).message}`);
  }
  return names.filter((name) => /^[^.].*\.(ya?ml|json)$/i.test(name)).sort();
}

/**
 * The config's accounts and those of each account file: a file holds `accounts` alone, checked as a config file of its
 * own (every error names that file and the key), and an account is named once across the config and its files.
 */
async function withAccountFiles(
  raw: Record<string, unknown>,
  path: string,
  directory: string,
  registry: VendorRegistry,
): Promise<Record<string, unknown>> {
  const accounts: Record<string, unknown> = isObject(raw.accounts) ? { ...raw.accounts } : {};
  const from = new Map(Object.keys(accounts).map((name) => [name, path]));
  for (const name of accountFileNames(directory)) {
    const file = join(directory, name);
    const content = await readConfigFile(file);
    const others = isObject(content) ? Object.keys(content).filter((key) => key !== 'accounts') : [];
    if (others.length > 0) throw new ConfigError(`${file}: ${others.join(', ')}: an account file holds accounts only`);
    parseConfig(content, file, registry);
    for (const [account, entry] of Object.entries((content as { accounts: Record<string, unknown> }).accounts)) {
      const first = from.get(account);
      if (first !== undefined) throw new ConfigError(`${file}: accounts.${account}: already configured in ${first}`);
      from.set(account, file);
      accounts[account] = entry;
    }
  }
  return accounts;
}

export function parseConfig(raw: unknown, path: string, registry: VendorRegistry = VENDORS): LoadedConfig {
  // The accounts of this registry's vendors: a test's registry adds its own.
  const parsed = ConfigFileSchema.extend({ accounts: accountsSchemaOf(registry) }).safeParse(raw);
  if (!parsed.success) throw new ConfigError(`invalid config file ${path}:\n${formatZodIssues(parsed.error)}`);
  const accounts: Record<string, Account> = {};
  for (const [name, config] of Object.entries(parsed.data.accounts)) {
    accounts[name] = { ...config, name, effectivePlan: effectivePlan(name, config, path, registry) };
  }
  const { rejects, sources, temporal, alerts, convergence, worker, accountFiles } = parsed.data;
  for (const [key, table] of [
    ['rejects.table.connection', rejects.table],
    ['convergence.table.connection', convergence?.table],
  ] as const) {
    if (table && !Object.hasOwn(sources.postgres, table.connection)) {
      const known = Object.keys(sources.postgres);
      throw new ConfigError(
        `${path}: ${key}: no connection '${table.connection}' in sources.postgres ` +
          `(configured: ${known.length ? known.join(', ') : 'none'})`,
      );
    }
  }
  const configDirectory = dirname(resolve(path));
  return {
    path,
    accounts,
    postgresConnections: sources.postgres,
    boundary: {
      configPath: path,
      fileRoots: (sources.files.roots ?? ['.']).map((root) => resolve(configDirectory, root)),
      tables: Object.fromEntries(Object.entries(sources.postgres).map(([name, entry]) => [name, entry.tables])),
    },
    rejectsDirectory: resolve(path, '..', rejects.directory ?? DEFAULT_REJECTS_DIRECTORY),
    ...(rejects.table ? { rejectsTable: rejects.table } : {}),
    ...(convergence ? { convergence } : {}),
    ...(temporal ? { temporal } : {}),
    ...(alerts ? { alerts } : {}),
    worker,
    ...(accountFiles ? { accountFiles: resolve(configDirectory, accountFiles) } : {}),
  };
}

/** The named plan with the account's lane overrides applied; `custom` requires every lane to be given. */
export function effectivePlan(
  accountName: string,
  account: AccountConfig,
  path: string,
  registry: VendorRegistry = VENDORS,
): Plan {
  const where = `${path}: accounts.${accountName}`;
  const vendor = registry.named(account.vendor);
  const isCustom = account.plan.toLowerCase() === 'custom';
  const base = isCustom ? undefined : findPlan(vendor.plans, account.plan);
  if (!isCustom && !base) {
    throw new ConfigError(
      `${where}.plan: unknown ${account.vendor} plan '${account.plan}' (known: ${planNames(vendor.plans).join(', ')}, custom)`,
    );
  }
  const lanes: Plan['lanes'] = {};
  const laneNames = new Set([...Object.keys(base?.lanes ?? {}), ...Object.keys(account.lanes)]) as Set<
    keyof Plan['lanes']
  >;
  for (const lane of laneNames) {
    const merged = { ...base?.lanes[lane], ...account.lanes[lane] };
    const result = LanePlanSchema.safeParse(merged);
    if (!result.success) {
      throw new ConfigError(
        `${where}.lanes.${lane}: ${isCustom ? 'a custom plan must give windows and rowsPerCall' : 'invalid lane'}:\n${formatZodIssues(result.error)}`,
      );
    }
    lanes[lane] = result.data;
  }
  if (!lanes.general) throw new ConfigError(`${where}.lanes.general: every account needs a general lane`);
  for (const [lane, plan] of Object.entries(lanes)) {
    for (const other of plan.alsoSpends) {
      if (!lanes[other]) throw new ConfigError(`${where}.lanes.${lane}.alsoSpends: no lane '${other}' on this account`);
    }
  }
  return PlanSchema.parse({
    vendor: account.vendor,
    name: isCustom ? 'custom' : base!.name,
    lanes,
    activitiesPerCall: base?.activitiesPerCall ?? vendor.activitiesPerCall,
  });
}

/**
 * An account the config does not name. A worker reads it as "not yet": a reload may add it, and another worker may
 * already have it (see ActivityContext.account).
 */
export class UnknownAccountError extends ConfigError {
  override name = 'UnknownAccountError';
}

export function findAccount(config: LoadedConfig, name: string): Account {
  // An own property only: `constructor` or `__proto__` is no account.
  const account = Object.hasOwn(config.accounts, name) ? config.accounts[name] : undefined;
  if (!account) {
    throw new UnknownAccountError(unknownAccount(config, name));
  }
  return account;
}

/** What an error says of an account the config does not name: the file and the accounts it does name. */
export function unknownAccount(config: LoadedConfig, name: string): string {
  return `unknown account '${name}' in ${config.path} (configured: ${Object.keys(config.accounts).join(', ') || 'none'})`;
}
