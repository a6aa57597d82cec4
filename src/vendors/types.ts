import type { z } from 'zod';
import type { Account } from '../config/accounts.js';
import type { Credentials } from '../config/credentials.js';
import type { LaneName, VendorName } from '../governance/plans.js';

/** One source row after mapping: the vendor's field names and their values. `row` is the 1-based data row. */
export interface LeadRecord {
  row: number;
  email: string;
  fields: Record<string, string>;
}

export type RowOutcome =
  { row: number; status: 'accepted' } | { row: number; status: 'rejected'; field?: string; reason: string };

/** What the vendor told us about our remaining quota, when it says (SmartLead's X-RateLimit-* headers). */
export interface QuotaReading {
  limit: number;
  remaining: number;
  resetAtMs: number;
}

export interface CallResult {
  outcomes: RowOutcome[];
  quota?: QuotaReading;
}

/** A field-level problem found before any call: the row goes to the rejects report. */
export interface FieldProblem {
  field: string;
  reason: string;
}

/** A client bound to one account and its credentials. Whole-call failures throw a VendorError. */
export interface VendorClient {
  /** One call on `lane` carrying at most the lane's rowsPerCall leads, upserted by email. */
  upsertLeads(lane: LaneName, leads: LeadRecord[], target: unknown): Promise<CallResult>;
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
  connect(account: Account, credentials: Credentials, options: VendorClientOptions): VendorClient;
}
