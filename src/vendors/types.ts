import type { z } from 'zod';
import type { Account } from '../config/accounts.js';
import type { LaneName, QuotaReading, VendorName } from '../core/plans.js';

/** One source row after mapping: the vendor's field names and their values. `row` is the 1-based data row. */
/** Secrets of one account, read from the worker's environment. Never passed to Temporal. */
export type Credentials = Record<string, string>;

export interface LeadRecord {
  row: number;
  email: string;
  fields: Record<string, string>;
}

export type RowOutcome =
  { row: number; status: 'accepted' } | { row: number; status: 'rejected'; field?: string; reason: string };

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
  upsertLeads(lane: LaneName, leads: LeadRecord[], target: unknown): Promise<CallResult>;
  /**
   * Posts activities (records whose fields the vendor's checkActivity passed) on `lane`, making as many calls as
   * the lane needs, each through `pace`. `retried`: an earlier attempt may have landed some of them. Absent for
   * vendors without activities.
   */
  postActivities?(
    lane: LaneName,
    activities: LeadRecord[],
    pace: Pace,
    options: { retried: boolean },
  ): Promise<RowOutcome[]>;
  /** Checks the credentials and the target with one cheap call; throws AuthError or NotFoundError. */
  verify(target: unknown): Promise<void>;
}

export interface VendorClientOptions {
  timeoutMs: number;
  fetch?: typeof fetch;
}

/** Everything vendor-specific, behind one small interface; see registry.ts. */
export interface Vendor {
  name: VendorName;
  /** The vendor's name for the email field, which every lead must have. */
  emailField: string;
  /** What a sync to this vendor needs beyond the account (SmartLead: the campaign). */
  targetSchema: z.ZodType;
  /** Vendor rules on fields (names, lengths) checked before a row is sent. */
  checkLead(fields: Record<string, string>): FieldProblem[];
  /** The same for an activity, where the vendor has them: the lead's email, the event, its time and fields. */
  checkActivity?(fields: Record<string, string>): FieldProblem[];
  connect(account: Account, credentials: Credentials, options: VendorClientOptions): VendorClient;
}
