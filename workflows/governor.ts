import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  adaptedWindows,
  onQuotaReading,
  onRefused,
  ownCalls,
  recover,
  type LaneAdaptation,
} from '../src/governance/adaptation.js';
import {
  earliestSlot,
  emptyLedger,
  pacedWindows,
  pause,
  recordSlot,
  releaseSlot,
  type Ledger,
} from '../src/governance/ledger.js';
import type { LaneName, Window } from '../src/governance/plans.js';
import {
  GovernorInputSchema,
  LaneReportSchema,
  ReserveRequestSchema,
  SlotReleaseSchema,
} from '../src/governance/governor-input.js';
import type { QuotaReading } from '../src/vendors/types.js';
import { parseArgument } from './arguments.js';

/**
 * The account governor: one long-lived workflow per vendor account that hands out call slots, so that
 * every worker process, and every sync on the account, shares one view of each lane's windows.
 * Temporal's task-queue limit is the coarse global ceiling; this is the exact pacing on top of it, and the one
 * place that learns, from the vendor's answers, how much of each window another client on the key leaves us.
 */

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
export const governorStateQuery = defineQuery<GovernorState>('state');

/** A governor that has granted nothing for this long has no window left to protect, and ends. */
const IDLE_MS = 2 * 60 * 60 * 1000;
/** Continue-as-new well before the server's history limits. */
const EVENTS_PER_RUN = 8_000;

export async function accountGovernor(raw: GovernorInput): Promise<void> {
  const input = parseArgument('governor input', GovernorInputSchema, raw);
  const state: GovernorState = {
    ledgers: {},
    vendorWindows: {},
    adaptations: {},
    reservations: 0,
    rateLimitReports: 0,
    quotaReports: 0,
    ...input.carried,
  };

  setHandler(
    reserveUpdate,
    (request) => {
      const now = Date.now();
      const ledgers = request.spends.map(({ ledger, lane, windows }) => {
        // What the vendor says it enforces, and what others on the key leave us, bind the lane as a whole, not a
        // lane's own share of it.
        const whole = ledger === lane;
        const adaptation = whole ? state.adaptations[lane] : undefined;
        if (adaptation) recover(adaptation, now);
        const usable = adaptedWindows([...windows, ...(whole ? (state.vendorWindows[lane] ?? []) : [])], adaptation);
        return {
          ledger: (state.ledgers[ledger] ??= emptyLedger()),
          windows: pacedWindows(shareOf(usable, request.share ?? 1), request.marginMs),
        };
      });
      const [called] = request.spends;
      const slots: number[] = [];
      const headroom: WindowHeadroom[][] = [];
      for (let i = 0; i < request.calls; i++) {
        const at = earliestSlot(ledgers, now);
        recordSlot(ledgers, at, now);
        slots.push(at);
        headroom.push(
          called!.windows.map((w) => ({
            limit: w.limit,
            remaining: w.limit - ownCalls(state.ledgers[called!.ledger]!, w, at, request.marginMs),
          })),
        );
      }
      state.reservations += request.calls;
      return { slots, headroom };
    },
    {
      validator: (request) => {
        const parsed = ReserveRequestSchema.safeParse(request);
        if (!parsed.success) throw new Error(`malformed reservation request: ${parsed.error.issues[0]?.message}`);
      },
    },
  );

  setHandler(reportSignal, (raw) => {
    // A signal cannot be refused: one that does not read as a report is dropped, never allowed to break the ledger.
    const parsed = LaneReportSchema.safeParse(raw);
    if (!parsed.success) return;
    const report = parsed.data;
    if (report.kind === 'quota') {
      state.quotaReports += 1;
      const ledger = state.ledgers[report.lane];
      if (ledger) {
        const adaptation = (state.adaptations[report.lane] ??= {});
        onQuotaReading(adaptation, ledger, report.windows, report.reading, report.at, report.marginMs);
      }
      return;
    }
    state.rateLimitReports += 1;
    const [lane] = report.lanes;
    if (!lane) return;
    // Calls in flight when the first 429 came are refused too: one event, one cut.
    const repeat = report.at < (state.ledgers[lane]?.pausedUntil ?? 0);
    for (const spent of report.lanes) {
      pause((state.ledgers[spent] ??= emptyLedger()), report.at + report.retryAfterMs);
    }
    onRefused((state.adaptations[lane] ??= {}), report.windows ?? [], report.refused, report.at, repeat);
    if (report.window) adoptVendorWindow(state, lane, report.window);
  });

  setHandler(releaseSignal, (raw) => {
    // Dropped unless it reads as a release, as reports are: a signal that threw here would fail the governor's
    // workflow task again and again, and every sync of the account would wait on it.
    const parsed = SlotReleaseSchema.safeParse(raw);
    if (!parsed.success) return;
    const { ledgers, slots } = parsed.data;
    for (const name of ledgers) {
      const ledger = state.ledgers[name];
      if (ledger) for (const at of slots) releaseSlot(ledger, at);
    }
  });

  setHandler(governorStateQuery, () => state);

  for (;;) {
    const seen = state.reservations;
    const mustRoll = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > EVENTS_PER_RUN;
    const rolled = await condition(mustRoll, IDLE_MS);
    if (rolled) {
      await condition(allHandlersFinished);
      return continueAsNew<typeof accountGovernor>({ account: input.account, carried: state });
    }
    if (state.reservations === seen) return;
  }
}

function shareOf(windows: Window[], share: number): Window[] {
  return share === 1 ? windows : windows.map((w) => ({ ...w, limit: Math.max(1, Math.floor(w.limit * share)) }));
}

function adoptVendorWindow(state: GovernorState, lane: LaneName, window: Window): void {
  const known = state.vendorWindows[lane] ?? [];
  if (known.some((w) => w.seconds === window.seconds && w.limit <= window.limit)) return;
  state.vendorWindows[lane] = [...known.filter((w) => w.seconds !== window.seconds), window];
}

export function governorWorkflowId(account: string): string {
  return `leadsync-governor/${account}`;
}
