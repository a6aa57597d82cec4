// Workflow-safe: zod only. What reaches an account governor from outside its own code: its start arguments (from
// whoever can start a workflow), reservations and reports (from whoever can send an update or a signal).
import { z } from 'zod';
import { LaneNameSchema, WindowSchema } from './plans.js';

const TimeSchema = z.number().finite().nonnegative();

/** A lane's ledger, or a lane's own share of it (`<lane>:own`): never a name that could be an object's key. */
const LedgerNameSchema = z.string().regex(/^(general|bulk)(:own)?$/, 'must be a lane, or a lane:own share');

const LedgerSchema = z.object({ slots: z.array(TimeSchema).max(100_000), pausedUntil: TimeSchema }).strict();

const WindowAdaptationSchema = z
  .object({
    factor: z.number().gt(0).max(1),
    pressureAt: TimeSchema,
    steppedAt: TimeSchema,
    forgivenAt: TimeSchema.optional(),
  })
  .strict();

const GovernorStateSchema = z
  .object({
    ledgers: z.record(LedgerNameSchema, LedgerSchema),
    vendorWindows: z.partialRecord(LaneNameSchema, z.array(WindowSchema)),
    adaptations: z.partialRecord(
      LaneNameSchema,
      z.record(z.string().regex(/^[0-9.e+-]+$/, 'must be a window span in seconds'), WindowAdaptationSchema),
    ),
    reservations: z.number().int().nonnegative(),
    rateLimitReports: z.number().int().nonnegative(),
    quotaReports: z.number().int().nonnegative(),
  })
  .strict();

export const GovernorInputSchema = z
  .object({
    account: z.string().regex(/^[a-z0-9][a-z0-9-_]*$/i, 'must be an account name of the config'),
    carried: GovernorStateSchema.optional(),
  })
  .strict();

export const ReserveRequestSchema = z
  .object({
    spends: z
      .array(z.object({ ledger: LedgerNameSchema, lane: LaneNameSchema, windows: z.array(WindowSchema) }))
      .min(1),
    share: z.number().gt(0).max(1).optional(),
    calls: z.number().int().min(1).max(10_000),
    marginMs: z.number().int().min(0).max(60_000),
  })
  .strict();

export const LaneReportSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('rate-limited'),
      lanes: z.array(LaneNameSchema),
      at: TimeSchema,
      retryAfterMs: TimeSchema,
      windows: z.array(WindowSchema).optional(),
      refused: WindowSchema.optional(),
      window: WindowSchema.optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('quota'),
      lane: LaneNameSchema,
      at: TimeSchema,
      reading: z.object({ limit: z.number(), remaining: z.number(), resetAtMs: z.number() }).strict(),
      windows: z.array(WindowSchema),
      marginMs: z.number().int().min(0),
    })
    .strict(),
]);

/** Slots to give back: a signal, so anyone who can signal the governor can send one. */
export const SlotReleaseSchema = z
  .object({ ledgers: z.array(LedgerNameSchema).max(8), slots: z.array(TimeSchema).max(10_000) })
  .strict();
