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
import { earliestSlot, emptyLedger, pacedWindows, pause, recordSlot, type Ledger } from '../src/governance/ledger.js';
import type { LaneName, Window } from '../src/governance/plans.js';

/**
 * The account governor: one long-lived workflow per vendor account that hands out call slots, so that
 * every worker process, and every sync on the account, shares one view of each lane's windows.
 * Temporal's task-queue limit is the coarse global ceiling; this is the exact pacing on top of it.
 */

export interface ReserveRequest {
  /**
   * Every ledger the call spends from, each with its windows: the lane the call is made on, every other lane it
   * also spends from, and a lane's own share (`<lane>:own`) where it must leave room for another lane's calls.
   */
  spends: { ledger: string; lane: LaneName; windows: Window[] }[];
  calls: number;
  marginMs: number;
}

export interface Reservation {
  /** Epoch ms at which each call may be made; a caller that misses its slot by more than half the margin asks again. */
  slots: number[];
}

export type LaneReport = {
  kind: 'rate-limited';
  lanes: LaneName[];
  /** Epoch ms when the vendor answered. */
  at: number;
  retryAfterMs: number;
  /** The window the vendor says it enforces, when it says; tighter than the configured one means the plan is wrong. */
  window?: Window;
};

export interface GovernorState {
  ledgers: Record<string, Ledger>;
  /** Windows the vendor told us about, enforced on top of the configured ones. */
  vendorWindows: Partial<Record<LaneName, Window[]>>;
  reservations: number;
  rateLimitReports: number;
}

export interface GovernorInput {
  account: string;
  carried?: GovernorState;
}

export const reserveUpdate = defineUpdate<Reservation, [ReserveRequest]>('reserve');
export const reportSignal = defineSignal<[LaneReport]>('report');
export const governorStateQuery = defineQuery<GovernorState>('state');

/** A governor that has granted nothing for this long has no window left to protect, and ends. */
const IDLE_MS = 2 * 60 * 60 * 1000;
/** Continue-as-new well before the server's history limits. */
const EVENTS_PER_RUN = 8_000;

export async function accountGovernor(input: GovernorInput): Promise<void> {
  const state: GovernorState = input.carried ?? {
    ledgers: {},
    vendorWindows: {},
    reservations: 0,
    rateLimitReports: 0,
  };

  setHandler(
    reserveUpdate,
    (request) => {
      const now = Date.now();
      const ledgers = request.spends.map(({ ledger, lane, windows }) => ({
        ledger: (state.ledgers[ledger] ??= emptyLedger()),
        // What the vendor says it enforces binds the lane as a whole, not a lane's own share of it.
        windows: pacedWindows(
          [...windows, ...(ledger === lane ? (state.vendorWindows[lane] ?? []) : [])],
          request.marginMs,
        ),
      }));
      const slots: number[] = [];
      for (let i = 0; i < request.calls; i++) {
        const at = earliestSlot(ledgers, now);
        recordSlot(ledgers, at, now);
        slots.push(at);
      }
      state.reservations += request.calls;
      return { slots };
    },
    {
      validator: (request) => {
        if (!request.spends.length || request.calls < 1 || request.marginMs < 0)
          throw new Error('malformed reservation request');
      },
    },
  );

  setHandler(reportSignal, (report) => {
    state.rateLimitReports += 1;
    for (const lane of report.lanes) pause((state.ledgers[lane] ??= emptyLedger()), report.at + report.retryAfterMs);
    const [lane] = report.lanes;
    if (report.window && lane) adoptVendorWindow(state, lane, report.window);
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

function adoptVendorWindow(state: GovernorState, lane: LaneName, window: Window): void {
  const known = state.vendorWindows[lane] ?? [];
  if (known.some((w) => w.seconds === window.seconds && w.limit <= window.limit)) return;
  state.vendorWindows[lane] = [...known.filter((w) => w.seconds !== window.seconds), window];
}

export function governorWorkflowId(account: string): string {
  return `leadsync-governor/${account}`;
}
