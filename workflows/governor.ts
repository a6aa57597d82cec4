import {
  allHandlersFinished,
  condition,
  continueAsNew,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  adaptedWindows,
  onQuotaReading,
  onRefused,
  ownCalls,
  recover,
} from '../src/core/adaptation.js';
import {
  earliestSlot,
  emptyLedger,
  moveSlot,
  type Ledger,
  pacedWindows,
  pause,
  recordSlot,
  releaseSlot,
} from '../src/core/ledger.js';
import type { LaneName, Window } from '../src/core/plans.js';
import {
  GovernorInputSchema,
  LaneReportSchema,
  ReserveRequestSchema,
  SlotMovesSchema,
  SlotReleaseSchema,
  governorStateQuery,
  moveSignal,
  releaseSignal,
  reportSignal,
  reserveUpdate,
  type GovernorInput,
  type GovernorState,
  type WindowHeadroom,
} from '../src/core/governor-protocol.js';
import { parseArgument } from './arguments.js';

/**
 * The account governor: one long-lived workflow per vendor account that hands out call slots, so that
 * every worker process, and every sync on the account, shares one view of each lane's windows.
 * Temporal's task-queue limit is the coarse global ceiling; this is the exact pacing on top of it, and the one
 * place that learns, from the vendor's answers, how much of each window another client on the key leaves us.
 */

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
    for (const ledger of heldLedgers(state, ledgers)) for (const at of slots) releaseSlot(ledger, at);
  });

  setHandler(moveSignal, (raw) => {
    // Dropped unless it reads as moves, as releases are. A move only shifts a slot the ledger holds: it adds none.
    const parsed = SlotMovesSchema.safeParse(raw);
    if (!parsed.success) return;
    const { ledgers, moves } = parsed.data;
    for (const ledger of heldLedgers(state, ledgers)) for (const { from, to } of moves) moveSlot(ledger, from, to);
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

/** The ledgers of these names the governor holds: a slot in a ledger it never opened is not its to give or move. */
function heldLedgers(state: GovernorState, names: readonly string[]): Ledger[] {
  return names.flatMap((name) => state.ledgers[name] ?? []);
}

function shareOf(windows: Window[], share: number): Window[] {
  return share === 1 ? windows : windows.map((w) => ({ ...w, limit: Math.max(1, Math.floor(w.limit * share)) }));
}

function adoptVendorWindow(state: GovernorState, lane: LaneName, window: Window): void {
  const known = state.vendorWindows[lane] ?? [];
  if (known.some((w) => w.seconds === window.seconds && w.limit <= window.limit)) return;
  state.vendorWindows[lane] = [...known.filter((w) => w.seconds !== window.seconds), window];
}
