import {
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  setHandler,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import { AccountGovernor, type GovernorNote } from '../src/core/governor/account-governor.js';
import {
  GovernorInputSchema,
  governorStateQuery,
  moveSignal,
  releaseSignal,
  reportSignal,
  reserveLanesUpdate,
  reserveUpdate,
  type GovernorInput,
} from '../src/core/governor/protocol.js';
import { parseArgument } from './arguments.js';

/**
 * The account governor: one long-lived workflow per vendor account that hands out call slots, so that every worker
 * process, and every sync on the account, shares one view of each lane's windows (src/core/governor). Temporal's
 * task-queue limit is the coarse global ceiling; this is the exact pacing on top of it.
 */

/** A governor that has granted nothing for this long has no window left to protect, and ends. */
const IDLE_MS = 2 * 60 * 60 * 1000;
/**
 * Continue-as-new well before the server's history limits, for a governor started without a run length: workers start
 * theirs with GOVERNOR_EVENTS_PER_RUN, shorter, so that one is replayed within a workflow task's timeout.
 */
const EVENTS_PER_RUN = 8_000;

export async function accountGovernor(raw: GovernorInput): Promise<void> {
  const input = parseArgument('governor input', GovernorInputSchema, raw);
  const governor = AccountGovernor.start(input.carried, uuid4, (note) => logNote(input.account, note), {
    joinsSlots: input.joinsSlots ?? false,
  });
  const eventsPerRun = input.eventsPerRun ?? EVENTS_PER_RUN;

  // `reserve` stays for workers older than `reserve-lanes`, during a rolling upgrade.
  setHandler(reserveUpdate, (request) => governor.reserve(request, Date.now()), {
    validator: AccountGovernor.validateReserve,
  });
  setHandler(reserveLanesUpdate, (requests) => governor.reserveLanes(requests, Date.now()), {
    validator: AccountGovernor.validateReserveLanes,
  });
  // Signals cannot be refused: the governor reads each where nothing throws, and drops what does not read.
  setHandler(reportSignal, (report) => governor.report(report, Date.now()));
  setHandler(releaseSignal, (release) => governor.release(release, Date.now()));
  setHandler(moveSignal, (moves) => governor.move(moves, Date.now()));
  setHandler(governorStateQuery, () => governor.view());

  for (;;) {
    const seen = governor.reservations;
    const mustRoll = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > eventsPerRun;
    if (await condition(mustRoll, IDLE_MS)) {
      await condition(allHandlersFinished);
      log.info('the account governor continues as new', {
        account: input.account,
        events: workflowInfo().historyLength,
        reservations: governor.reservations,
      });
      return continueAsNew<typeof accountGovernor>({ ...input, carried: governor.carried() });
    }
    if (governor.reservations === seen) return;
  }
}

/** The governor's decisions, in the worker's log (the workflow logger: not repeated on replay). */
function logNote(account: string, note: GovernorNote): void {
  switch (note.kind) {
    case 'window-cut':
      return log.info("a window is cut to what the vendor's answers leave us", { account, ...note });
    case 'window-restored':
      return log.info('a window is back at its full limit', { account, ...note });
    case 'lanes-paused':
      return log.debug('the vendor refused a call for rate: the lanes wait', { account, ...note });
  }
}
