// Workflow-safe: zod and types only. This is what crosses Temporal between the sync workflow, its activities
// and the programs that start it: references, counts and cursors, never row data or credentials.
import { z } from 'zod';
import { LaneNameSchema, VendorNameSchema } from './plans.js';
import { MappingSchema } from './mapping.js';
import { ChunkRangeSchema, CursorSchema, FilePinSchema, PositionSchema, type Since } from './source-refs.js';
import { SourceRefSchema } from './source-registry.js';
import { RejectsTableRefSchema, RunIdSchema, type RejectsTableReport } from './rejects-ref.js';
import { AlertTriggersSchema } from './alerts.js';
import type { LaneCapacity } from './expected-finish.js';
import { PrioritySchema, type Priority } from './priority.js';

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
    /** Which syncs on the account go first: the governor grants slots by priority, then in order of arrival. */
    priority: PrioritySchema.default('normal'),
  })
  .strict();
export type SyncInput = z.input<typeof SyncInputSchema>;
export type SyncRequest = z.output<typeof SyncInputSchema>;

/** One lane as a sync drives it: where its chunks run and how fast they may go. */
export const LaneRunSchema = z
  .object({
    lane: LaneNameSchema,
    /** Checked by the chunk activity against the worker's own lane queue: a payload cannot move it. */
    taskQueue: z.string().min(1),
    /**
     * On a shared queue, the lane's fairness key and weight (src/core/task-queues.ts), checked by the chunk activity
     * where they set a ceiling. Absent on per-account queues, and in plans made before queues could be shared.
     */
    priority: z
      .object({ fairnessKey: z.string().min(1).max(64), fairnessWeight: z.number().positive() })
      .strict()
      .optional(),
    rowsPerCall: z.number().int().positive(),
    /** The lane's long-run share of the account's allowance, before the sync's own share is applied. */
    callsPerSecond: z.number().positive(),
    /**
     * The same with every window widened by the account's margin, as the governor paces the lane: what the expected
     * finish reckons with. Absent from plans made before it, which reckon with the allowance.
     */
    pacedCallsPerSecond: z.number().positive().optional(),
  })
  .strict();
export type LaneRun = z.infer<typeof LaneRunSchema>;

/**
 * What prepareSync found out before the first vendor call. Where rejects go is recorded for the sync's reader only:
 * the activities take it from the worker's config.
 */
export const SyncPlanSchema = z
  .object({
    vendor: VendorNameSchema,
    planName: z.string(),
    lanes: z.array(LaneRunSchema).min(1),
    totalRows: z.number().int().nonnegative(),
    /** The plan's ceiling in rows per second, all lanes together. */
    rowsPerSecond: z.number().positive(),
    /** Where the per-chunk rejects files of this sync go, unless rejectsTable is given. */
    rejectsDirectory: z.string(),
    /** The table the config sends rejects to instead of files. Absent in plans made before tables could be. */
    rejectsTable: RejectsTableRefSchema.optional(),
    /** The source file as prepare found it; absent for a table, and in plans made before files were pinned. */
    pin: FilePinSchema.optional(),
    /**
     * The run that prepared the sync, which its rejects are kept under: a sync that uses a closed sync's workflow id
     * again keeps its own. Absent in plans made before rejects were kept by run: those write where they did then.
     */
    runId: RunIdSchema.optional(),
    /**
     * The config's alert triggers when prepared: what the sync's end is judged by. Absent when the config has no
     * alerts, and in plans made before alerts.
     */
    alerts: AlertTriggersSchema.optional(),
    /**
     * The sync converges with the runs before it (the config's `convergence`, a table with a cursor column): rows that
     * landed before are not sent again, and the retry set's rows (`retryRows` when prepared) are sent first.
     */
    convergence: z.object({ retryRows: z.number().int().nonnegative() }).strict().optional(),
  })
  .strict();
export type SyncPlan = z.infer<typeof SyncPlanSchema>;

/**
 * One chunk for the chunk activity to send. It comes from a sync workflow, or from any workflow a namespace writer
 * runs on a worker of their own (activities are scheduled by name, on leadsync's queues): the activity checks it.
 */
export const ChunkTaskSchema = z.object({
  /** The sync's workflow id: the activity refuses a task scheduled by another workflow. */
  syncId: z.string().min(1),
  account: z.string().min(1),
  lane: LaneNameSchema,
  /** Absent in tasks scheduled before activities existed: those are leads. */
  records: RecordsSchema.optional(),
  source: SourceRefSchema,
  mapping: MappingSchema.optional(),
  target: z.record(z.string(), z.unknown()),
  share: ShareSchema,
  /** The sync's priority; absent in tasks scheduled before priorities: those are normal. */
  priority: PrioritySchema.optional(),
  /**
   * Rows per vendor call: a chunk of a fast lane carries several calls' worth. Absent in tasks scheduled before
   * chunks did: those are one call.
   */
  rowsPerCall: z.number().int().positive().optional(),
  chunk: ChunkRangeSchema,
  /** Only these rows of the chunk are sent (a reconciliation's repair: the rows that drifted); absent: all of them. */
  only: z.array(z.number().int().positive()).max(1_000_000).optional(),
  /** The source file as prepare found it: a chunk of a file that changed since fails the sync. */
  pin: FilePinSchema.optional(),
  /** The run whose rejects the chunk's go with (SyncPlan.runId); absent in tasks of syncs prepared before. */
  runId: RunIdSchema.optional(),
  /** Ignored: tasks scheduled before the worker's config alone decided where rejects go carry them. */
  rejectsDirectory: z.string().optional(),
  rejectsTable: z.unknown().optional(),
  /** The chunk is a key range of the retry set (src/rejects/row-store.ts), its rows read by key as they are now. */
  retry: z.literal(true).optional(),
  /**
   * An earlier activity of this chunk sent calls before the sync's pause stopped it: the chunk's activities are checked
   * against what their leads already have before any is posted, as on a retried attempt.
   */
  sentBefore: z.literal(true).optional(),
});
export type ChunkTask = z.infer<typeof ChunkTaskSchema>;

/** What a chunk stopped by its sync's pause tells the sync, in its failure's details: whether any call went out. */
export const StoppedChunkSchema = z.object({ sent: z.boolean() });
export type StoppedChunk = z.infer<typeof StoppedChunkSchema>;

/** A chunk waiting for its turn, marked once an activity of it was stopped by a pause after sending calls. */
export const PendingChunkSchema = ChunkRangeSchema.extend({ sentBefore: z.literal(true).optional() });
export type PendingChunk = z.infer<typeof PendingChunkSchema>;

export interface ChunkResult {
  rows: number;
  accepted: number;
  rejected: number;
  /**
   * Rows the vendor refused without naming them (SmartLead's counts of blocked, bounced, unsubscribed leads):
   * `accepted + rejected + unattributed = rows`. Absent in results of chunks run before it was counted, and when none.
   */
  unattributed?: number;
  /**
   * Rows not sent because that version of them landed in an earlier run (or, refused by leadsync's checks, has not
   * changed since): `accepted + rejected + unattributed + unchanged = rows`. Absent when none.
   */
  unchanged?: number;
  /** Vendor calls this chunk made (splits of a batch the vendor found too large count each). */
  calls: number;
  /** Attempts beyond the first that this chunk needed (rate limits, faults). */
  retries: number;
}

const CountSchema = z.number().int().nonnegative();
export const SyncCountsSchema = z
  .object({
    read: CountSchema,
    accepted: CountSchema,
    rejected: CountSchema,
    /** Rows the vendor refused without naming them: `accepted + rejected + unattributed = read`. */
    unattributed: CountSchema.default(0),
    /** Rows not sent: that version landed in an earlier run (ChunkResult.unchanged). */
    unchanged: CountSchema.default(0),
    /** Chunk attempts that had to be retried. */
    retried: CountSchema,
    calls: CountSchema,
  })
  .strict();
export type SyncCounts = z.infer<typeof SyncCountsSchema>;
export const ZERO_COUNTS: SyncCounts = {
  read: 0,
  accepted: 0,
  rejected: 0,
  unattributed: 0,
  unchanged: 0,
  retried: 0,
  calls: 0,
};

/** The retry set of a converging sync's scope once the sync is done (src/rejects/row-store.ts). */
export type RetrySetSummary = NonNullable<SyncResult['retrySet']>;

export type SyncState = 'preparing' | 'running' | 'paused' | 'writing-rejects' | 'completed' | 'cancelled' | 'failed';

export interface SyncProgress {
  state: SyncState;
  account: string;
  vendor?: string;
  totalRows?: number;
  counts: SyncCounts;
  share: number;
  /**
   * Which syncs on the account go first (the governor's grants, the chunks' task-queue priority). Absent from workers
   * older than priorities: their syncs run as normal.
   */
  priority?: Priority;
  /** Rows per second the plan allows (times the share), and what the sync achieved so far. */
  ceilingRowsPerSecond?: number;
  rowsPerSecond: number;
  /** Rows per second over the last minute, once chunks have ended seconds apart (workflows/recent-rate.ts). */
  recentRowsPerSecond?: number;
  startedAt: number;
  /** Continue-as-new runs so far. */
  run: number;
  /** Epoch ms until which the latest rate-limit answer asked us to wait, if one is pending. */
  backoffUntil?: number;
  /**
   * Epoch ms the figures are of: the sync's clock when it last took in a change (a query answers from there). Absent
   * from workers before the expected finish.
   */
  asOf?: number;
  /** The plan's lanes, each with its allowance, once prepared: what `leadsync status` reckons the account's syncs over. */
  lanes?: LaneCapacity[];
  /**
   * Epoch ms at which the sync is expected to read its last row (src/core/expected-finish.ts), while it runs: from the
   * sync itself, or from the whole account where `leadsync status` reckoned it.
   */
  expectedFinishAt?: number;
}

export interface SyncResult extends SyncCounts {
  totalRows: number;
  /**
   * CSV of this sync's rejected rows: row, field, reason (a line with no row: rows the vendor refused without naming
   * them). Named for the workflow id and the run, so a later sync with the same id has its own. Absent when no row
   * was rejected, or when they went to a table.
   */
  rejectsFile?: string;
  /**
   * The table holding this sync's rejected rows (those with `sync_id = syncId` and `run_id = runId`), when the config
   * names one; absent if none.
   */
  rejectsTable?: RejectsTableReport;
  seconds: number;
  cancelled: boolean;
  /**
   * An incremental source's high-water mark: the next sync's `since`, past every row that landed and no further.
   * Schedules hand it from one run to the next.
   */
  nextSince?: Since;
  /**
   * The retry set after this sync, when it converges with the runs before it (SyncPlan.convergence): rows waiting to be
   * sent again (or, refused by leadsync's checks, to change), those failed in `convergence.stuckAfterRuns` runs or
   * more, and when the oldest first failed.
   */
  retrySet?: { size: number; stuckRows: number; oldestFailedAt?: string /* ISO */ };
}

/** Chunks a run may carry to the next per lane: far more than a page of scans, far less than a payload holds. */
const MAX_CARRIED_CHUNKS = 10_000;

/**
 * What one run hands the next on continue-as-new: the same references, never rows. It arrives as the second
 * argument of leadSync, which anyone who can start a workflow can write: it is checked like the first.
 */
export const CarriedSchema = z
  .object({
    plan: SyncPlanSchema,
    cursor: CursorSchema,
    /** The source has no rows left to cut into chunks. */
    scanned: z.boolean(),
    /** How far every row has landed: what an incremental sync's nextSince is taken from. */
    landed: z
      .object({
        nextRow: z.number().int().positive(),
        position: PositionSchema.nullable(),
        ahead: z.array(ChunkRangeSchema).max(MAX_CARRIED_CHUNKS),
      })
      .strict(),
    pending: z.partialRecord(LaneNameSchema, z.array(PendingChunkSchema).max(MAX_CARRIED_CHUNKS)),
    counts: SyncCountsSchema,
    startedAt: z.number().int().nonnegative(),
    run: z.number().int().nonnegative(),
    paused: z.boolean(),
    /** The retry set's chunks are being cut and sent: the source's own come after them (workflows/sync-run.ts). */
    retrying: z.boolean().optional(),
  })
  .strict();
export type Carried = z.infer<typeof CarriedSchema>;

/** Completed chunks per run before continue-as-new: the third argument of leadSync, bounded like the others. */
export const ChunksPerRunSchema = z.number().int().min(1).max(10_000);

/** What the rejects report activity is asked: checked like a chunk task, for the same reason. */
export const RejectsReportRequestSchema = z.object({
  syncId: z.string().min(1),
  /** The run whose rejects to report (SyncPlan.runId); absent for syncs prepared before rejects were kept by run. */
  runId: RunIdSchema.optional(),
  /** Ignored, as are the chunks': the worker's config says where the rejects are. */
  rejectsDirectory: z.string().optional(),
  rejectsTable: z.unknown().optional(),
});
export type RejectsReportRequest = z.infer<typeof RejectsReportRequestSchema>;

/** What the retry set's summary activity is asked: whose scope (the sync's account, source, records and target). */
export const RetrySetRequestSchema = z.object({
  syncId: z.string().min(1),
  account: z.string().min(1),
  source: SourceRefSchema,
  records: RecordsSchema,
  target: z.record(z.string(), z.unknown()),
});
export type RetrySetRequest = z.infer<typeof RetrySetRequestSchema>;
