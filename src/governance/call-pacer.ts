import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import { WithStartWorkflowOperation, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { Logger } from '@temporalio/common';
import type { Account } from '../config/accounts.js';
import {
  GOVERNOR_EVENTS_PER_RUN,
  GOVERNOR_WORKFLOW_TYPE,
  governorWorkflowId,
  moveSignal,
  releaseSignal,
  reportSignal,
  reserveLanesUpdate,
  type LaneReport,
  type Reservation,
  type ReserveRequest,
  type WindowHeadroom,
} from '../core/governor/protocol.js';
import type { QuotaReading } from '../core/plans.js';
import { syncAllowances } from '../core/allowance.js';
import { CoalescedReservations } from './coalesced-reservations.js';
import { LateAnswers } from './late-answers.js';
import { RateLimitedError } from '../vendors/errors.js';
import type { LaneName, Window } from '../core/plans.js';
import type { Priority } from '../core/priority.js';

/**
 * Paces vendor calls by the account governor, on the activity side: reserves a slot for each call and waits for it,
 * so calls from any number of worker processes land inside the account's windows.
 */
export class CallPacer {
  private readonly reservations = new CoalescedReservations();
  private readonly lateAnswers = new LateAnswers();
  /**
   * Signals to the governor sent together at the end of the turn, by signal and grant: a stopped chunk
   * gives back many slots at once, and a stall makes a chunk's calls late together.
   */
  private readonly batches = new Map<string, { items: unknown[]; sent: Promise<void> }>();

  constructor(
    private readonly client: Client,
    /** The task queue the governor workflow runs on: the workflow queue of the workers. */
    private readonly taskQueue: string,
  ) {}

  /**
   * Runs `call` at a slot granted on `lane`. A slot missed by more than half the margin is given back and a new one
   * asked for: the margin only covers calls made close to their slot. So is a slot that a call of this process
   * answered late now crowds (LateAnswers). When the answer carries a quota reading (`quotaOf`) showing less left
   * than our own calls explain, the governor hears of it.
   */
  async paced<T>(
    account: Account,
    lane: LaneName,
    share: number,
    call: () => Promise<T>,
    options: PacedOptions<T> = {},
  ): Promise<T> {
    const lateAfterMs = Math.max(account.pacing.marginMs / 2, MIN_LATE_MS);
    const priority = options.priority ?? 'normal';
    const request = reserveRequest(account, lane, 1, share, priority);
    const ledgers = request.spends.map((spend) => spend.ledger);
    for (;;) {
      const heard = this.lateAnswers.heard();
      // The account's lanes go in one update: a chunk of each lane waiting at once costs one action, not two.
      const { grant, slot, headroom } = await this.reservations.take(
        `${account.name}\u0000${share}\u0000${priority}`,
        lane,
        (asks) =>
          this.reserve(
            account,
            asks.map((ask) => ({ lane: ask.part as LaneName, calls: ask.calls })),
            share,
            priority,
          ),
        options.signal,
        (grant, slot) => this.release(account, grant, slot),
      );
      try {
        const wait = slot - Date.now();
        if (wait > 0) await sleepFor(wait, options.signal);
        options.signal?.throwIfAborted();
      } catch (err) {
        // Stopped before its call was sent (its sync paused, its chunk failed): the slot is free for another call.
        this.release(account, grant, slot);
        decisionLog()?.debug('a call stopped before its slot: the slot is given back', {
          account: account.name,
          lane,
          slot,
        });
        throw err;
      }
      const sentAt = Date.now();
      if (sentAt - slot > lateAfterMs) {
        // Never sent: give the slot back, or it holds a call's room in every window it is in. SmartLead Pro per minute
        // lost 4 to 16 of each minute's 120 calls so, and needed a fourth minute for three minutes' rows.
        this.release(account, grant, slot);
        decisionLog()?.debug('a call missed its slot: the slot is given back and a new one asked for', {
          account: account.name,
          lane,
          slot,
          lateByMs: sentAt - slot,
        });
        continue;
      }
      if (this.lateAnswers.crowds(ledgers, slot, heard, shortestSpanMs(request))) {
        this.release(account, grant, slot);
        decisionLog()?.debug("a late answer crowds this call's slot: the slot is given back", {
          account: account.name,
          lane,
          slot,
        });
        await this.lateAnswers.heardAll();
        continue;
      }
      const laneKey = `${account.name}\u0000${lane}`;
      const usual = this.lateAnswers.usual(laneKey);
      const result = await call().catch(async (err: unknown) => {
        if (err instanceof RateLimitedError) await this.reportRefused(account, grant, err);
        throw err;
      });
      const lateBy = sentAt - slot + this.lateAnswers.excess(laneKey, usual, sentAt, Date.now());
      // Past the whole margin: within it, the window after the call was paced to leave the vendor room for it.
      if (lateBy > account.pacing.marginMs) {
        this.move(account, ledgers, grant, slot, slot + lateBy);
        decisionLog()?.info('a call was answered late: its slot moves to where the vendor may have counted it', {
          account: account.name,
          lane,
          slot,
          lateByMs: lateBy,
        });
      }
      const reading = options.quotaOf?.(result);
      if (reading && belowExpected(reading, headroom)) {
        // Best effort: a lost reading costs at most a 429, which is reported and honoured anyway.
        await this.signal(account, { kind: 'quota', grant, at: sentAt, reading }).catch(() => undefined);
      }
      return result;
    }
  }

  /** Slots for so many calls on each lane, in one update: a reservation per lane, in the order asked. */
  async reserve(
    account: Account,
    asks: readonly { lane: LaneName; calls: number }[],
    share = 1,
    priority?: Priority,
  ): Promise<Reservation[]> {
    const requests = asks.map(({ lane, calls }) => reserveRequest(account, lane, calls, share, priority));
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.client.workflow.executeUpdateWithStart(reserveLanesUpdate, {
          args: [requests],
          startWorkflowOperation: new WithStartWorkflowOperation(GOVERNOR_WORKFLOW_TYPE, {
            workflowId: governorWorkflowId(account.name),
            taskQueue: this.taskQueue,
            args: [{ account: account.name, eventsPerRun: GOVERNOR_EVENTS_PER_RUN, joinsSlots: true }],
            workflowIdConflictPolicy: 'USE_EXISTING',
            staticSummary: `Rate governor of ${account.vendor} account ${account.name}`,
          }),
        });
      } catch (err) {
        // A governor that just continued-as-new or ended idle refuses the update; the next attempt reaches its successor.
        if (err instanceof WorkflowUpdateFailedError || attempt >= 10) throw err;
        await sleep(50 * attempt);
      }
    }
  }

  /**
   * Tells the governor the vendor refused a call for rate, so every caller on the lanes waits, not just this one, and
   * the lane's windows adapt. When the vendor did not say when to retry, the lanes wait for the margin: what a stall
   * on the way can have bunched into the vendor's window has left it by then, and pressure that persists shows as a
   * second refusal, which cuts. Best effort: the refused call is sent again at a slot after the vendor's time whether
   * or not the governor heard.
   */
  private async reportRefused(account: Account, grant: string, err: RateLimitedError): Promise<void> {
    await this.signal(account, {
      kind: 'rate-limited',
      grant,
      at: Date.now(),
      retryAfterMs: err.retryAfterStated ? err.retryAfterMs : account.pacing.marginMs,
      ...(err.refusedLimit !== undefined ? { refusedLimit: err.refusedLimit } : {}),
      ...(err.window ? { window: err.window } : {}),
    }).catch(() => undefined);
  }

  /** Best effort: a slot not given back is only a call's room left unused until its window passes. */
  private release(account: Account, grant: string, slot: number): void {
    this.batched(`release\u0000${grant}`, slot, (slots) =>
      this.governor(account).signal(releaseSignal, { grant, slots }),
    ).catch(() => undefined);
  }

  /** Best effort, as a release: a move lost leaves the ledger as it was (a 429 at worst, reported and honoured). */
  private move(account: Account, ledgers: string[], grant: string, from: number, to: number): void {
    const told = this.batched(`move\u0000${grant}`, { from, to }, (moves) =>
      this.governor(account).signal(moveSignal, { grant, moves }),
    );
    this.lateAnswers.moved(ledgers, from, to, told);
  }

  /** Sends `item` with the others of the same `key` (signal and grant) that come in this turn. */
  private batched<T>(key: string, item: T, send: (items: T[]) => Promise<void>): Promise<void> {
    const pending = this.batches.get(key) as { items: T[]; sent: Promise<void> } | undefined;
    if (pending) {
      pending.items.push(item);
      return pending.sent;
    }
    const items = [item];
    // After the turn's promise callbacks: an abort settles the waiting calls' sleeps one microtask after another.
    const sent = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      this.batches.delete(key);
      return send(items);
    });
    this.batches.set(key, { items, sent });
    return sent;
  }

  private governor(account: Account) {
    return this.client.workflow.getHandle(governorWorkflowId(account.name));
  }

  private async signal(account: Account, report: LaneReport): Promise<void> {
    await this.governor(account).signal(reportSignal, report);
  }
}

export interface PacedOptions<T> {
  signal?: AbortSignal;
  /** The calling sync's priority; normal when not given. */
  priority?: Priority;
  /** The vendor's quota reading in the call's answer, if it gives one. */
  quotaOf?: (result: T) => QuotaReading | undefined;
}

/**
 * A call this close after its slot is on time, whatever the margin: a timer wakes a millisecond or more late, and with
 * a margin of 0 every call gave its slot back and asked again (a 1,000-row sync stalled).
 */
const MIN_LATE_MS = 20;

/** The running activity's logger (the worker's, redacting), or none outside an activity (a bench, a test). */
function decisionLog(): Logger | undefined {
  try {
    return Context.current().log;
  } catch {
    return undefined;
  }
}

/**
 * Node fires a timer longer than 2^31 - 1 ms at once: a wait that long (a slot far off, by a fault anywhere) would
 * turn into no wait at all and send the call unpaced. Longer waits are slept in parts.
 */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

async function sleepFor(ms: number, signal: AbortSignal | undefined): Promise<void> {
  for (let left = ms; left > 0; left -= LONGEST_TIMER_MS) {
    await sleep(Math.min(left, LONGEST_TIMER_MS), undefined, { signal });
  }
}

/** The vendor counts more of the window than the governor expected from our own calls. */
function belowExpected(reading: QuotaReading, headroom: readonly WindowHeadroom[]): boolean {
  const expected = headroom.find((h) => h.limit === reading.limit);
  return expected !== undefined && reading.remaining < expected.remaining;
}

function laneWindows(account: Account, lane: LaneName): Window[] {
  const plan = account.effectivePlan.lanes[lane];
  if (!plan) throw new Error(`account ${account.name} has no lane '${lane}'`);
  return plan.windows;
}

function spentLanes(account: Account, lane: LaneName): LaneName[] {
  return [lane, ...(account.effectivePlan.lanes[lane]?.alsoSpends ?? [])];
}

/**
 * The ledgers one call spends from. A sync limited to a share of the plan is granted a slot only while each ledger,
 * shared with every other sync on the account, holds fewer calls than that share of each window (the governor
 * applies the share). A lane that another lane also spends from (LeadSquared's general lane, which bulk calls count
 * against) keeps its own calls to what the other lane leaves: otherwise single calls, being many, would take every
 * general slot and starve the bulk lane, which carries fifty rows a call.
 */
export function reserveRequest(
  account: Account,
  lane: LaneName,
  calls: number,
  share = 1,
  priority?: Priority,
): ReserveRequest {
  const lanes = account.effectivePlan.lanes;
  const spends: ReserveRequest['spends'] = spentLanes(account, lane).map((spent) => ({
    ledger: spent,
    lane: spent,
    windows: laneWindows(account, spent),
  }));
  const othersRate = syncAllowances(account.effectivePlan)
    .filter((other) => lanes[other.lane]?.alsoSpends.includes(lane))
    .reduce((sum, other) => sum + other.callsPerSecond, 0);
  if (othersRate > 0) {
    const own = lanes[lane]!.windows.map((w) => ({
      ...w,
      limit: Math.max(1, w.limit - Math.ceil(w.seconds * othersRate)),
    }));
    spends.push({ ledger: `${lane}:own`, lane, windows: own });
  }
  return { spends, share, ...(priority ? { priority } : {}), calls, marginMs: account.pacing.marginMs };
}

/** The shortest window the call spends from, as the governor enforces it: the span a moved call can crowd. */
function shortestSpanMs(request: ReserveRequest): number {
  const seconds = Math.min(...request.spends.flatMap((spend) => spend.windows.map((w) => w.seconds)));
  return seconds * 1000 + request.marginMs;
}
