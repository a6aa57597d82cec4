// Workflow-safe: zod and types only. This is what crosses Temporal between the sync workflow, its activities
// and the programs that start it: references, counts and cursors, never row data or credentials.
import { z } from 'zod';
import { type LaneName, type VendorName } from '../governance/plans.js';
import { MappingSchema } from '../sources/mapping.js';
import { SourceRefSchema, type ChunkRange, type Cursor, type Since } from '../sources/types.js';
import type { RejectsTableRef, RejectsTableReport } from './rejects-ref.js';
import type { Watermark } from './watermark.js';

/** The share of the account's plan a sync may use: 1 is the whole ceiling. */
export const ShareSchema = z.number().gt(0, 'share must be above 0').max(1, 'share is at most 1 (the whole plan)');

/** What the rows of a source are: leads to upsert, or activities to post on leads found by email. */
export const RecordsSchema = z.enum(['leads', 'activities']);
export type Records = z.infer<typeof RecordsSchema>;

/** What starts a sync, from the leadsync CLI, the typed client API or `temporal workflow start --input`. */
export const SyncInputSchema = z
  .object({
    account: z.string().min(1, 'name the account of the config file to sync into'),
    source: SourceRefSchema,
    records: RecordsSchema.default('leads'),
    /** Vendor field -> source column; absent means the columns already carry the vendor's field names. */
    mapping: MappingSchema.optional(),
    /** What the vendor needs beyond the account (SmartLead: { campaignId }). */
    target: z.record(z.string(), z.unknown()).default({}),
    share: ShareSchema.default(1),
  })
  .strict();
export type SyncInput = z.input<typeof SyncInputSchema>;
export type SyncRequest = z.output<typeof SyncInputSchema>;

/** One lane as a sync drives it: where its chunks run and how fast they may go. */
export interface LaneRun {
  lane: LaneName;
  taskQueue: string;
  rowsPerCall: number;
  /** The lane's long-run share of the account's allowance, before the sync's own share is applied. */
  callsPerSecond: number;
}

/** What prepareSync found out before the first vendor call. */
export interface SyncPlan {
  vendor: VendorName;
  planName: string;
  lanes: LaneRun[];
  totalRows: number;
  /** The plan's ceiling in rows per second, all lanes together. */
  rowsPerSecond: number;
  /** Where the per-chunk rejects files of this sync go, unless rejectsTable is given. */
  rejectsDirectory: string;
  /** The table the config sends rejects to instead of files. Absent in plans made before tables could be. */
  rejectsTable?: RejectsTableRef;
}

export interface ChunkTask {
  syncId: string;
  account: string;
  lane: LaneName;
  /** Absent in tasks scheduled before activities existed: those are leads. */
  records?: Records;
  source: SyncRequest['source'];
  mapping: SyncRequest['mapping'];
  target: SyncRequest['target'];
  share: number;
  /**
   * Rows per vendor call: a chunk of a fast lane carries several calls' worth. Absent in tasks scheduled before
   * chunks did: those are one call.
   */
  rowsPerCall?: number;
  chunk: ChunkRange;
  rejectsDirectory: string;
  /** When given, the chunk's rejects go to this table, not to a file under rejectsDirectory. */
  rejectsTable?: RejectsTableRef;
}

export interface ChunkResult {
  rows: number;
  accepted: number;
  rejected: number;
  /**
   * Rows the vendor refused without naming them (SmartLead's counts of blocked, bounced, unsubscribed leads):
   * `accepted + rejected + unattributed = rows`. Absent in results of chunks run before it was counted, and when none.
   */
  unattributed?: number;
  /** Vendor calls this chunk made (splits of a batch the vendor found too large count each). */
  calls: number;
  /** Attempts beyond the first that this chunk needed (rate limits, faults). */
  retries: number;
}

export interface SyncCounts {
  read: number;
  accepted: number;
  rejected: number;
  /** Rows the vendor refused without naming them: `accepted + rejected + unattributed = read`. */
  unattributed: number;
  /** Chunk attempts that had to be retried. */
  retried: number;
  calls: number;
}
export const ZERO_COUNTS: SyncCounts = { read: 0, accepted: 0, rejected: 0, unattributed: 0, retried: 0, calls: 0 };

export type SyncState = 'preparing' | 'running' | 'paused' | 'writing-rejects' | 'completed' | 'cancelled' | 'failed';

export interface SyncProgress {
  state: SyncState;
  account: string;
  vendor?: string;
  totalRows?: number;
  counts: SyncCounts;
  share: number;
  /** Rows per second the plan allows (times the share), and what the sync achieved so far. */
  ceilingRowsPerSecond?: number;
  rowsPerSecond: number;
  startedAt: number;
  /** Continue-as-new runs so far. */
  run: number;
  /** Epoch ms until which the latest rate-limit answer asked us to wait, if one is pending. */
  backoffUntil?: number;
}

export interface SyncResult extends SyncCounts {
  totalRows: number;
  /**
   * CSV of rejected rows: row, field, reason (a line with no row: rows the vendor refused without naming them). Absent when no row was rejected, or when they went to a table. */
  rejectsFile?: string;
  /** The table holding the rejected rows (those with `sync_id = syncId`), when the config names one; absent if none. */
  rejectsTable?: RejectsTableReport;
  seconds: number;
  cancelled: boolean;
  /**
   * An incremental source's high-water mark: the next sync's `since`, past every row that landed and no further.
   * Schedules hand it from one run to the next.
   */
  nextSince?: Since;
}

/** What one run hands the next on continue-as-new: the same references, never rows. */
export interface Carried {
  plan: SyncPlan;
  cursor: Cursor;
  /** The source has no rows left to cut into chunks. */
  scanned: boolean;
  /** How far every row has landed: what an incremental sync's nextSince is taken from. */
  landed: Watermark;
  pending: Partial<Record<LaneName, ChunkRange[]>>;
  counts: SyncCounts;
  startedAt: number;
  run: number;
  paused: boolean;
}

export interface RejectsReportRequest {
  syncId: string;
  rejectsDirectory: string;
  /** When given, the rejects are in this table: the report counts them there. */
  rejectsTable?: RejectsTableRef;
}
