import { z } from 'zod';

/**
 * A window is one rate limit: at most `limit` requests in any `seconds`-long span.
 * Vendors do not say whether their windows slide or are fixed, so leadsync always assumes sliding.
 */
export const WindowSchema = z.object({
  limit: z.number().int().positive(),
  seconds: z.number().positive(),
});
export type Window = z.infer<typeof WindowSchema>;

export const LaneNameSchema = z.enum(['general', 'bulk']);
/** A lane is one independently limited stream of calls to a vendor account. */
export type LaneName = z.infer<typeof LaneNameSchema>;

/** What the vendor told us about our remaining quota, when it says (SmartLead's X-RateLimit-* headers). */
export interface QuotaReading {
  limit: number;
  remaining: number;
  resetAtMs: number;
}

export const LanePlanSchema = z.object({
  windows: z.array(WindowSchema).min(1),
  /** Rows one call on this lane carries at most (1 for single-row endpoints). */
  rowsPerCall: z.number().int().positive(),
  /** Other lanes whose windows a call on this lane also spends from (LeadSquared: bulk calls may count as general). */
  alsoSpends: z.array(LaneNameSchema).default([]),
});
export type LanePlan = z.infer<typeof LanePlanSchema>;

/**
 * A vendor's name. The core cannot know which vendors this build has (they sit above it): it only keeps a name to a
 * short identifier that cannot be an object's own key such as `__proto__`. The vendor registry checks the name itself
 * (the config's account union, the worker's connect) before any call.
 */
export const VendorNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,31}$/, 'a vendor name is a short lowercase identifier');
export type VendorName = z.infer<typeof VendorNameSchema>;

export const PlanSchema = z.object({
  vendor: VendorNameSchema,
  name: z.string(),
  lanes: z.partialRecord(LaneNameSchema, LanePlanSchema),
  /** Rows per bulk call for activities, where the vendor has an activity bulk endpoint. */
  activitiesPerCall: z.number().int().positive().optional(),
});
export type Plan = z.infer<typeof PlanSchema>;

/** One vendor's published plans by lowercase name (../shared/seeds): each vendor keeps its own. */
export type PlanTable = Readonly<Record<string, Plan>>;

export function planNames(plans: PlanTable): string[] {
  return Object.keys(plans);
}

export function findPlan(plans: PlanTable, name: string): Plan | undefined {
  const key = name.toLowerCase();
  // An own property only: `constructor` is no plan.
  return Object.hasOwn(plans, key) ? plans[key] : undefined;
}

/** The long-run sustainable call rate of a set of windows: the tightest limit/seconds. */
export function sustainedRate(windows: readonly Window[]): number {
  return Math.min(...windows.map((w) => w.limit / w.seconds));
}

/**
 * A lane's per-second ceiling: its shortest window's rate. Longer windows are the governor's to keep: a ceiling at the
 * sustained (SmartLead: hourly) rate would hold a sync that fits in the hour to a quarter of the per-minute allowance.
 */
export function dispatchRate(windows: readonly Window[]): number {
  const shortest = windows.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  return shortest.limit / shortest.seconds;
}

/** Read partitions per task queue unless the cluster's dynamic config says otherwise: the server's, and Cloud's, default. */
export const TASK_QUEUE_PARTITIONS = 4;

/**
 * The lane queue's maxTaskQueueActivitiesPerSecond: the global backstop, never what paces a lane. The server splits
 * it evenly over the queue's partitions, each with its own limiter, and a task waits for the one partition that holds
 * it: at the lane's ceiling itself, a 1-call-per-5-s bulk lane on 4 partitions waited up to 20 s for its task. So each
 * partition gets the whole ceiling: a chunk carries one call or more, so no partition ever holds a lane's chunks
 * back, and the queue still bounds the lane to a few times its ceiling whatever the governor grants. The exact pace
 * is the governor's.
 */
export function laneQueueRate(windows: readonly Window[], partitions = TASK_QUEUE_PARTITIONS): number {
  return dispatchRate(windows) * partitions;
}
