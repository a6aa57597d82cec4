import type { z } from 'zod';
import type { LaneName, Plan, PlanTable, QuotaReading, VendorName } from '../core/plans.js';
import type { RunningSimulator } from '../simulation/simulator.js';
import type { Transport } from './transport.js';

/** Secrets of one account by the vendor's names for them, read from the worker's environment. Never passed to Temporal. */
export type Credentials<Key extends string = string> = Readonly<Record<Key, string>>;

/** What a client needs of a configured account: the config's accounts have more (plan, pacing), none of it secret. */
export interface VendorAccount {
  name: string;
  vendor: VendorName;
  baseUrl: string;
}

/**
 * One source row after mapping, a lead or an activity: the vendor's field names and their values. `row` is the
 * 1-based data row.
 */
export interface VendorRecord {
  row: number;
  email: string;
  fields: Record<string, string>;
}

/**
 * What became of a row sent. An accepted row carries the vendor's id of the record it wrote when the answer names one
 * per row (LeadSquared's ProspectID of a lead): the chunk writes it to the changelog, never into a workflow's history.
 */
export type RowOutcome =
  | { row: number; status: 'accepted'; vendorId?: string }
  | { row: number; status: 'rejected'; field?: string; reason: string };

export interface CallResult {
  outcomes: RowOutcome[];
  quota?: QuotaReading;
  /**
   * Rows the vendor refused without saying which (SmartLead's `block_count`): each count is among the rows
   * `outcomes` calls accepted, which cannot be told apart. Accepted rows are then `accepted - sum(count)`, and the
   * rejects report carries one line per reason: "<count> rows refused by the vendor, not named: <reason>".
   */
  unattributed?: UnattributedRefusal[];
}

/** A number of rows of one call the vendor refused for `reason` without naming them. */
export interface UnattributedRefusal {
  count: number;
  reason: string;
}

/** A field-level problem found before any call: the row goes to the rejects report. */
export interface FieldProblem {
  field: string;
  reason: string;
}

/**
 * Runs one vendor call at a slot the account's governor grants: every HTTP call a client makes goes through it. A
 * call that belongs to another lane than the chunk's (a lookup during a bulk chunk) names it.
 */
export type Pace = <T>(call: () => Promise<T>, lane?: LaneName) => Promise<T>;

/** A client bound to one account and its credentials. Whole-call failures throw a VendorError. */
export interface VendorClient {
  /** One call on `lane` carrying at most the lane's rowsPerCall leads, upserted by email. */
  upsertLeads(lane: LaneName, leads: VendorRecord[], target: unknown): Promise<CallResult>;
  /**
   * Posts activities (records whose fields the vendor's checkActivity passed) on `lane`, making as many calls as
   * the lane needs, each through `pace`. `retried`: an earlier attempt may have landed some of them. Absent for
   * vendors without activities.
   */
  postActivities?(
    lane: LaneName,
    activities: VendorRecord[],
    pace: Pace,
    options: { retried: boolean },
  ): Promise<RowOutcome[]>;
  /** Checks the credentials and the target with one cheap call; throws AuthError or NotFoundError. */
  verify(target: unknown): Promise<void>;
  /** Reads back the vendor's copy of leads, for reconciliation; absent for a vendor that cannot. */
  readLeads?: LeadReader;
}

/** A lead as the vendor holds it: its email and its fields by the vendor's names, a field it does not hold as ''. */
export interface VendorLead {
  email: string;
  fields: Record<string, string>;
}

/**
 * How a vendor reads leads back, each call through `pace` on the lane its endpoint spends: by the emails of a chunk
 * (one lookup each: the vendor can find a lead but not list a sync's), or by listing the target's leads a page at a
 * time from `offset` (`next` absent on the last page), which also shows leads that left the source.
 */
export type LeadReader =
  | { by: 'email'; read(emails: readonly string[], pace: Pace): Promise<VendorLead[]> }
  | {
      by: 'list';
      read(target: unknown, offset: number, pace: Pace): Promise<{ leads: VendorLead[]; next?: number }>;
    };

export interface VendorClientOptions {
  timeoutMs: number;
  /** The account's maxAnswerBytes. */
  maxAnswerBytes?: number;
  /** How calls go out: the process's keep-alive transport unless a test answers them itself. */
  transport?: Transport;
}

/** A flag of `leadsync sync` and `schedule create` that sets one key of a sync's target (SmartLead: --campaign). */
export interface TargetFlag {
  /** Commander's spelling, e.g. `--campaign <id>`. */
  flags: string;
  description: string;
  /** The target key the flag's value goes to. */
  targetKey: string;
}

/** A flag of `leadsync simulate <vendor>` beyond the common ones (plan, port, faults). */
export interface SimulateFlag {
  flags: string;
  description: string;
  defaultValue?: string | boolean;
  /** Given more than once, the values collect in a list. */
  repeatable?: boolean;
}

/** What `leadsync simulate <vendor>` offers: the CLI builds the command from it without loading the simulator. */
export interface SimulateCommand {
  description: string;
  defaultPlan: string;
  defaultPort: number;
  flags: readonly SimulateFlag[];
}

/** A vendor's simulator, loaded only by the commands (`dev`, `simulate`) and tests that start one. */
export interface VendorSimulator<Key extends string = string> {
  /** A simulator that enforces `plan` (a named plan's published windows, a custom one's own) and takes `credentials`. */
  startFor(plan: Plan, credentials: Credentials<Key>): Promise<RunningSimulator>;
  /** Starts it from `leadsync simulate`'s parsed flags: the vendor's own and the common ones; a ConfigError says what is wrong. */
  start(flags: Record<string, unknown>): Promise<RunningSimulator>;
}

/**
 * Everything a vendor is to leadsync, in one module of the vendor's folder: the registry (registry.ts) lists these and
 * derives the rest (the config's accounts, `leadsync plans`, the CLI, dev's simulators). `Key` names its credentials.
 */
export interface Vendor<Key extends string = string> {
  name: VendorName;
  /** Published plans by lowercase name; an account names one, or `custom`. */
  plans: PlanTable;
  /**
   * The pacing margin of an account that sets none (`pacing.marginMs`): slack added to each of the vendor's windows
   * against calls landing later than their slot. It costs margin / window of the rate, so it is the vendor's: its
   * windows' length sets what a millisecond of safety costs.
   */
  defaultMarginMs: number;
  /** Rows an activity bulk call takes whatever the plan, where the vendor has activities: a custom plan keeps it. */
  activitiesPerCall?: number;
  /** The secrets an account holds; the config names where each is read: `<key>Env` (a variable) or `<key>File`. */
  credentialKeys: readonly Key[];
  /** The vendor's name for the email field, which every lead must have. */
  emailField: string;
  /** What a sync to this vendor needs beyond the account (SmartLead: the campaign). */
  targetSchema: z.ZodType;
  /** The CLI flags that set the target's keys. */
  targetFlags: readonly TargetFlag[];
  /** Vendor rules on fields (names, lengths) checked before a row is sent. */
  checkLead(fields: Record<string, string>): FieldProblem[];
  /** The same for an activity, where the vendor has them: the lead's email, the event, its time and fields. */
  checkActivity?(fields: Record<string, string>): FieldProblem[];
  connect(account: VendorAccount, credentials: Credentials<Key>, options: VendorClientOptions): VendorClient;
  /**
   * The vendor's simulator, if it has one: the command's flags, and `load` to import the simulator itself, which no
   * worker loads.
   */
  simulator?: {
    command: SimulateCommand;
    load(): Promise<VendorSimulator<Key>>;
  };
}
