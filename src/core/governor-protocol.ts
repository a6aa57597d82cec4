// The account governor's protocol: its messages, what they carry, and the schemas that check what reaches it from
// outside its own code: its start arguments (from whoever can start a workflow), reservations and reports (from
// whoever can send an update or a signal).
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import type { LaneAdaptation } from './adaptation.js';
import type { Ledger } from './ledger.js';
import { LaneNameSchema, WindowSchema, type LaneName, type QuotaReading, type Window } from './plans.js';

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

/**
 * The furthest a slot may move. Calls time out long before it (30 s by default): a move further is no late answer's,
 * and a forged one would hold the lane's windows for nothing. A move refused leaves the slot where it was.
 */
const MAX_MOVE_MS = 10 * 60 * 1000;

/** Slots to move later, where the vendor may have counted their calls: a signal, bounded as releases are. */
export const SlotMovesSchema = z
  .object({
    ledgers: z.array(LedgerNameSchema).max(8),
    moves: z
      .array(
        z
          .object({ from: TimeSchema, to: TimeSchema })
          .strict()
          .refine((m) => m.to > m.from && m.to - m.from <= MAX_MOVE_MS, 'must move later, by at most 10 minutes'),
      )
      .max(10_000),
  })
  .strict();

export interface ReserveRequest {
  /**
   * Every ledger the call spends from, each with its windows as the plan gives them: the lane the call is made on
   * (first), every other lane it also spends from, and a lane's own share (`<lane>:own`) where it must leave room
   * for another lane's calls.
   */
  spends: { ledger: string; lane: LaneName; windows: Window[] }[];
  /**
   * The share of every window the calling sync may hold, counting every other sync's calls. Absent from workers
   * older than this field, whose windows come already scaled: 1 keeps a running governor compatible with them.
   */
  share?: number;
  calls: number;
  marginMs: number;
}

export interface Reservation {
  /** Epoch ms at which each call may be made; a caller that misses its slot by more than half the margin asks again. */
  slots: number[];
  /**
   * For each slot, what each window of the call's lane should have left after the call were leadsync the key's
   * only client. A vendor reporting less has seen calls that are not ours: worth telling the governor.
   */
  headroom: WindowHeadroom[][];
}

export interface WindowHeadroom {
  limit: number;
  remaining: number;
}

export type LaneReport =
  | {
      kind: 'rate-limited';
      lanes: LaneName[];
      /** Epoch ms when the vendor answered. */
      at: number;
      retryAfterMs: number;
      /** The plan's windows of the lane the call was made on (the first of `lanes`); absent from older workers. */
      windows?: Window[];
      /** The window of the plan that refused, when the answer says which (SmartLead's X-RateLimit-Limit). */
      refused?: Window;
      /** The window the vendor says it enforces, when it says; tighter than the configured one means the plan is wrong. */
      window?: Window;
    }
  | {
      kind: 'quota';
      lane: LaneName;
      /** Epoch ms when the call was sent: the vendor counted its window back from about then. */
      at: number;
      reading: QuotaReading;
      /** The plan's windows of the lane; the reading names one of them by its limit. */
      windows: Window[];
      marginMs: number;
    };

export interface GovernorState {
  ledgers: Record<string, Ledger>;
  /** Windows the vendor told us about, enforced on top of the configured ones. */
  vendorWindows: Partial<Record<LaneName, Window[]>>;
  /** How much of each window we use while another client on the key spends from it, per lane. */
  adaptations: Partial<Record<LaneName, LaneAdaptation>>;
  reservations: number;
  rateLimitReports: number;
  quotaReports: number;
}

export interface GovernorInput {
  account: string;
  carried?: GovernorState;
}

export const reserveUpdate = defineUpdate<Reservation, [ReserveRequest]>('reserve');
export const reportSignal = defineSignal<[LaneReport]>('report');

/** Slots granted whose calls were never sent, to be given back: the ledgers of the reservation, and the slots. */
export interface SlotRelease {
  ledgers: string[];
  slots: number[];
}
export const releaseSignal = defineSignal<[SlotRelease]>('release');
/** Slots whose calls were answered late, to be moved to where the vendor may have counted them. */
export interface SlotMoves {
  ledgers: string[];
  moves: { from: number; to: number }[];
}
export const moveSignal = defineSignal<[SlotMoves]>('move');
export const governorStateQuery = defineQuery<GovernorState>('state');

/** The governor's workflow type, as workflows/index.ts exports it: activities start it by name. */
export const GOVERNOR_WORKFLOW_TYPE = 'accountGovernor';

export function governorWorkflowId(account: string): string {
  return `leadsync-governor/${account}`;
}
