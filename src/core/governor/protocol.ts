// The account governor's protocol: its messages, what they carry, and the schemas that check what reaches it from
// outside its own code: its start arguments (from whoever can start a workflow), reservations and reports (from
// whoever can send an update or a signal).
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import type { LaneAdaptation } from './adaptation.js';
import type { Ledger } from './ledger.js';
import { MAX_MESSAGE_WAIT_MS } from '../messages.js';
import { LaneNameSchema, WindowSchema, type LaneName, type Window } from '../plans.js';
import { PrioritySchema, type Priority } from '../priority.js';
import { MAX_SHARES_KEPT, type Wanted } from './horizon.js';

const TimeSchema = z.number().finite().nonnegative();
/** Ledgers one call spends from: its lane, the lanes it also spends from, and a lane's own share. */
const MAX_SPENDS = 4;
/** Windows a lane has: SmartLead's three, with room for what a vendor or an account adds. */
const MAX_WINDOWS = 8;
const MarginSchema = z.number().int().min(0).max(60_000);
/** A window as a message may name it: no vendor counts over a day, nor a million calls in one. */
const MessageWindowSchema = z
  .object({ limit: z.number().int().positive().max(1_000_000), seconds: z.number().positive().max(86_400) })
  .strict();
/** A wait a message may ask for, clamped to the longest a vendor window lasts (a far-off one would stall a lane). */
const WaitSchema = z
  .number()
  .finite()
  .nonnegative()
  .transform((ms) => Math.min(ms, MAX_MESSAGE_WAIT_MS));

/**
 * A lane's ledger, or a lane's own share of it (`<lane>:own`), either of them counting only the calls above low
 * priority (`:above-low`): never a name that could be an object's key.
 */
const LedgerNameSchema = z
  .string()
  .regex(
    /^(general|bulk)(:own)?(:above-low|:low)?$/,
    'must be a lane, or a lane:own share, or either :above-low or :low',
  );

const LedgerSchema = z.object({ slots: z.array(TimeSchema).max(100_000), pausedUntil: TimeSchema }).strict();

const WindowAdaptationSchema = z
  .object({
    factor: z.number().gt(0).max(1),
    pressureAt: TimeSchema,
    steppedAt: TimeSchema,
    forgivenAt: TimeSchema.optional(),
  })
  .strict();

/** A grant's token, as the governor's workflow makes them (uuid4): never a name that could be an object's key. */
const GrantTokenSchema = z.string().regex(/^[0-9a-f-]{36}$/, 'must be a grant token');

const GrantSchema = z
  .object({
    lane: LaneNameSchema,
    // Each ledger a call spends from, and its calls above low priority.
    ledgers: z.array(LedgerNameSchema).max(2 * MAX_SPENDS),
    slots: z.array(TimeSchema).max(10_000),
    lastSlot: TimeSchema,
  })
  .strict();

const LaneTermsSchema = z.object({ windows: z.array(WindowSchema).max(MAX_WINDOWS), marginMs: MarginSchema }).strict();

const GovernorStateSchema = z
  .object({
    ledgers: z.record(LedgerNameSchema, LedgerSchema),
    vendorWindows: z.partialRecord(LaneNameSchema, z.array(WindowSchema).max(MAX_WINDOWS)),
    adaptations: z.partialRecord(
      LaneNameSchema,
      z.record(z.string().regex(/^[0-9.e+-]+$/, 'must be a window span in seconds'), WindowAdaptationSchema),
    ),
    reservations: z.number().int().nonnegative(),
    rateLimitReports: z.number().int().nonnegative(),
    quotaReports: z.number().int().nonnegative(),
    // Absent from governors that ran before grants.
    grants: z.record(GrantTokenSchema, GrantSchema).optional(),
    lanes: z.partialRecord(LaneNameSchema, LaneTermsSchema).optional(),
    droppedMessages: z.number().int().nonnegative().optional(),
    // Absent from governors that ran before priorities.
    wanted: z
      .object({
        high: TimeSchema.optional(),
        normal: TimeSchema.optional(),
        heldUntil: TimeSchema.optional(),
        // Absent from governors that ran before low calls were held to what a sync's share leaves.
        shares: z
          .array(z.object({ share: z.number().gt(0).max(1), at: TimeSchema }).strict())
          .max(MAX_SHARES_KEPT)
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export const GovernorInputSchema = z
  .object({
    account: z.string().regex(/^[a-z0-9][a-z0-9-_]*$/i, 'must be an account name of the config'),
    carried: GovernorStateSchema.optional(),
    /**
     * History events per run before continue-as-new (8,000 when absent, as governors started before workers set it;
     * workers set GOVERNOR_EVENTS_PER_RUN). Whoever starts a governor can set it; the worst it does is continue-as-new
     * more often.
     */
    eventsPerRun: z.number().int().min(20).max(8_000).optional(),
    /**
     * Slots join the room freeing just after them (AccountGovernor.start); absent, as in governors started before
     * workers set it, every slot goes at its earliest. An input, as eventsPerRun: a run replays with the grants it made.
     */
    joinsSlots: z.boolean().optional(),
  })
  .strict();

export const ReserveRequestSchema = z
  .object({
    spends: z
      .array(
        z
          .object({
            ledger: LedgerNameSchema,
            lane: LaneNameSchema,
            windows: z.array(WindowSchema).min(1).max(MAX_WINDOWS),
          })
          .strict(),
      )
      .min(1)
      .max(MAX_SPENDS),
    share: z.number().gt(0).max(1).optional(),
    priority: PrioritySchema.optional(),
    calls: z.number().int().min(1).max(10_000),
    marginMs: MarginSchema,
  })
  .strict();

/** A worker's reservations on the account's lanes, one each at most: answered in order, as separate reserves would be. */
export const ReserveLanesSchema = z
  .array(ReserveRequestSchema)
  .min(1)
  .max(MAX_SPENDS)
  .refine(
    (requests) => new Set(requests.map((request) => request.spends[0]!.lane)).size === requests.length,
    'must ask once per lane',
  );

/**
 * What the vendor said of a call made at one of a grant's slots. The lanes, windows and margin are the grant's, as
 * its reservation gave them: a report names none of its own.
 */
export const LaneReportSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('rate-limited'),
      grant: GrantTokenSchema,
      /** Epoch ms when the vendor answered. */
      at: TimeSchema,
      retryAfterMs: WaitSchema,
      /** The limit of the window that refused, when the answer says which (SmartLead's X-RateLimit-Limit). */
      refusedLimit: z.number().int().positive().optional(),
      /** The window the vendor says it enforces, when it says; tighter than the configured one means the plan is wrong. */
      window: MessageWindowSchema.optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('quota'),
      grant: GrantTokenSchema,
      /** Epoch ms when the call was sent: the vendor counted its window back from about then. */
      at: TimeSchema,
      reading: z
        .object({
          limit: z.number().int().nonnegative().max(1_000_000),
          remaining: z.number().int().nonnegative().max(1_000_000),
          resetAtMs: TimeSchema,
        })
        .strict(),
    })
    .strict(),
]);
export type LaneReport = z.input<typeof LaneReportSchema>;

/** Slots of a grant to give back: a signal, so anyone who can signal the governor can send one. */
export const SlotReleaseSchema = z.object({ grant: GrantTokenSchema, slots: z.array(TimeSchema).max(10_000) }).strict();
export type SlotRelease = z.input<typeof SlotReleaseSchema>;

/**
 * The furthest a slot may move. Calls time out long before it (30 s by default): a move further is no late answer's,
 * and a forged one would hold the lane's windows for nothing. A move refused leaves the slot where it was.
 */
const MAX_MOVE_MS = 10 * 60 * 1000;

/** Slots of a grant to move later, where the vendor may have counted their calls: a signal, bounded as releases are. */
export const SlotMovesSchema = z
  .object({
    grant: GrantTokenSchema,
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
export type SlotMoves = z.input<typeof SlotMovesSchema>;

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
  /**
   * The calling sync's priority: how far ahead its slots may lie (src/core/governor/horizon.ts). Absent from workers
   * older than this field, which take every slot they ask for: they are granted every call, as before.
   */
  priority?: Priority;
  calls: number;
  marginMs: number;
}

export interface Reservation {
  /** The token that messages about these calls (release, move, report) quote: only its holder speaks for them. */
  grant: string;
  /** Epoch ms at which each call may be made; a caller that misses its slot by more than half the margin asks again. */
  slots: number[];
  /**
   * For each slot, what each window of the call's lane should have left after the call were leadsync the key's
   * only client. A vendor reporting less has seen calls that are not ours: worth telling the governor.
   */
  headroom: WindowHeadroom[][];
  /**
   * Present when fewer slots were granted than calls asked for (the rest lie beyond the priority's horizon): epoch ms
   * at which to ask again for the rest.
   */
  retryAt?: number;
  /**
   * With `retryAt`: the latest time (epoch ms) to ask again that still comes before the first call left out. A caller
   * asking for several lanes at once may wait until then for another lane's `retryAt`, and ask for both in one update.
   */
  askBy?: number;
}

export interface WindowHeadroom {
  limit: number;
  remaining: number;
}

export interface GovernorState {
  ledgers: Record<string, Ledger>;
  /** Windows the vendor told us about, enforced on top of the configured ones. */
  vendorWindows: Partial<Record<LaneName, Window[]>>;
  /** How much of each window we use while another client on the key spends from it, per lane. */
  adaptations: Partial<Record<LaneName, LaneAdaptation>>;
  reservations: number;
  rateLimitReports: number;
  quotaReports: number;
  /** Reservations by token, while their calls may still be released, moved or reported on. */
  grants?: Record<string, Grant>;
  /** Each lane's windows and margin as the last reservation on it gave them: what reports are read against. */
  lanes?: Partial<Record<LaneName, { windows: Window[]; marginMs: number }>>;
  /** Signals dropped as malformed, out of bounds, or quoting no live grant. */
  droppedMessages?: number;
  /** What lower priorities yield to: when each priority above low last asked, how long high's slots are held. */
  wanted?: Wanted;
}

/** One reservation's calls: the lanes they spend from, and the slots not yet released or moved. */
export interface Grant {
  lane: LaneName;
  ledgers: string[];
  slots: number[];
  lastSlot: number;
}

/** The governor's state as its query shows it: the grants only counted, their tokens kept back. */
export type GovernorView = Omit<GovernorState, 'grants'> & { grants: number };

export type GovernorInput = z.input<typeof GovernorInputSchema>;

export const reserveUpdate = defineUpdate<Reservation, [ReserveRequest]>('reserve');
/** Reservations on several lanes of the account in one update (a worker's chunks of every lane waiting at once). */
export const reserveLanesUpdate = defineUpdate<Reservation[], [ReserveRequest[]]>('reserve-lanes');
export const reportSignal = defineSignal<[LaneReport]>('report');

export const releaseSignal = defineSignal<[SlotRelease]>('release');
export const moveSignal = defineSignal<[SlotMoves]>('move');
export const governorStateQuery = defineQuery<GovernorView>('state');

/** The governor's workflow type, as workflows/index.ts exports it: activities start it by name. */
export const GOVERNOR_WORKFLOW_TYPE = 'accountGovernor';

/**
 * The run length workers start governors with. A worker that lost a governor from its cache replays its whole history
 * in one workflow task: the SDK maps a stack trace for every promise a workflow makes, and a 4,161-event governor
 * history took 5.4 s to replay on a loaded 2-core machine (bench/RESULTS.md), and one such replay passed the task's
 * 10-s timeout and timed out again on every attempt. Before, a governor ran until the server suggested continue-as-new
 * (from 4,096 events on the dev server) or to 8,000. Set as an input, not by a patch: the run's length is then its
 * starter's, and costs no marker.
 */
export const GOVERNOR_EVENTS_PER_RUN = 2_000;

export function governorWorkflowId(account: string): string {
  return `leadsync-governor/${account}`;
}
