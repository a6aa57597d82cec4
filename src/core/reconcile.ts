// Workflow-safe: what crosses Temporal between a reconciliation, its activities and the programs that start it.
import { z } from 'zod';
import { ShareSchema, SyncInputSchema, SyncPlanSchema, type SyncRequest } from './contract.js';
import { CursorSchema } from './source-refs.js';
import type { Priority } from './priority.js';
import type { RejectsReport } from './rejects-ref.js';

/**
 * The share of the account's plan a reconciliation takes unless told otherwise: all of it, for it runs at low priority
 * and so gets only the slots no sync of higher priority wants (src/core/governor/horizon.ts).
 */
export const RECONCILE_SHARE = 1;

/** What starts a reconciliation: a leads sync's input (whose rows are compared), and whether to send the drift again. */
export const ReconcileInputSchema = SyncInputSchema.omit({ records: true, share: true, priority: true })
  .extend({
    share: ShareSchema.default(RECONCILE_SHARE),
    /** Send the rows missing at the vendor or differing from it again, through the sync's push. */
    repair: z.boolean().default(false),
  })
  .strict();
export type ReconcileInput = z.input<typeof ReconcileInputSchema>;
export type ReconcileRequest = z.output<typeof ReconcileInputSchema>;

/** A reconciliation is background work: it spends only what syncs leave. */
export const RECONCILE_PRIORITY: Priority = 'low';

/** The sync whose rows a reconciliation compares: prepared, scanned and (with repair) pushed as that sync would be. */
export function syncOf(request: ReconcileRequest): SyncRequest {
  const { repair: _repair, ...sync } = request;
  return { ...sync, records: 'leads', priority: RECONCILE_PRIORITY };
}

const CountSchema = z.number().int().nonnegative();
export const DriftCountsSchema = z
  .object({
    /** Source leads compared with the vendor's copy. */
    checked: CountSchema,
    missing: CountSchema,
    differing: CountSchema,
    /** Leads the vendor holds that no source row has: only where the vendor can list a sync's target. */
    extra: CountSchema,
    /** Drifted rows sent again that the vendor accepted. */
    repaired: CountSchema,
  })
  .strict();
export type DriftCounts = z.infer<typeof DriftCountsSchema>;
export const NO_DRIFT: DriftCounts = { checked: 0, missing: 0, differing: 0, extra: 0, repaired: 0 };

/** What one run hands the next on continue-as-new: references and counts, checked like the input. */
export const ReconcileCarriedSchema = z
  .object({
    plan: SyncPlanSchema,
    cursor: CursorSchema,
    counts: DriftCountsSchema,
    startedAt: z.number(),
    run: z.number().int().nonnegative(),
  })
  .strict();
export type ReconcileCarried = z.infer<typeof ReconcileCarriedSchema>;

/** One chunk compared: its counts, and the rows to send again (missing or differing). */
export interface ChunkDrift {
  checked: number;
  missing: number;
  differing: number;
  drifted: number[];
}

export interface ReconcileResult extends DriftCounts {
  totalRows: number;
  /** The drift report: a CSV of row, email, drift, field, source, vendor. */
  driftFile: string;
  /** Where the repair's rejected rows are, when it had any. */
  rejects?: RejectsReport;
  seconds: number;
}

/** The Web UI's current details of a reconciliation. */
export function describeDrift(state: string, counts: DriftCounts, totalRows: number, driftFile?: string): string {
  const lines = [
    `**reconciliation ${state}**: ${counts.checked} of ${totalRows} source rows checked against the vendor`,
    `${counts.missing} missing at the vendor, ${counts.differing} differing, ${counts.extra} at the vendor only` +
      (counts.repaired > 0 ? `; ${counts.repaired} repaired` : ''),
  ];
  if (driftFile) lines.push(`report: \`${driftFile}\``);
  return lines.join('\n\n');
}
