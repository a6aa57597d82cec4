import fc from 'fast-check';
import type { Account } from '../../src/config/accounts.js';
import type { LaneAdaptation } from '../../src/core/governor/adaptation.js';
import { AccountGovernor } from '../../src/core/governor/account-governor.js';
import type { Ledger, PacedWindow } from '../../src/core/governor/ledger.js';
import type { LaneName, Window } from '../../src/core/plans.js';
import { reserveRequest } from '../../src/governance/call-pacer.js';
import { PrioritySchema, type Priority } from '../../src/core/priority.js';
import { parsedAccount } from './accounts.js';

/*
 * The account governor driven for property-based tests: the real state class (src/core/governor), with every call it
 * granted remembered by the token its reservation handed out, and arbitraries for plans and for sequences of what
 * reaches a governor. The spends of a reservation come from the pacer's own reserveRequest, on an account parsed
 * from its config. Left out: the windows a refusal says the vendor enforces (adopted on top of the plan's, so they
 * only ever tighten), and continue-as-new.
 */

/** Workflow time when a scenario starts: epoch milliseconds, so slot arithmetic runs at real magnitudes. */
export const START_MS = 1_700_000_000_000;

/** A call the governor let go: the slot it granted, its reservation's token, and the ledgers it spends from. */
export interface Grant {
  at: number;
  token: string;
  ledgers: readonly string[];
  /** Given back: its call was never sent, so it is in no vendor window. */
  released: boolean;
  /**
   * Where its call was answered late enough to move its slot: an observation of where the vendor may have counted
   * it, not a grant. The call still left at `at`.
   */
  movedTo?: number;
}

/** What a reservation was held to: each ledger it spends from, its windows as enforced, its pause at the time. */
export interface Spend {
  ledger: string;
  windows: PacedWindow[];
  pausedUntil: number;
}

export type Command =
  | { kind: 'reserve'; lane: LaneName; calls: number; share: number; priority?: Priority }
  /** A granted call that was never sent (its sync paused, its slot missed): `pick` chooses among the unsent. */
  | { kind: 'release'; pick: number }
  /** A granted call answered `lateByMs` after its slot; the governor hears of it when the answer comes. */
  | { kind: 'move'; pick: number; lateByMs: number }
  | { kind: 'rate-limited'; lane: LaneName; agoMs: number; retryAfterMs: number; refused?: number }
  | { kind: 'quota'; lane: LaneName; window: number; remaining: number; agoMs: number; resetInMs: number }
  | { kind: 'advance'; ms: number };

export type Step =
  | { kind: 'reserve'; slots: number[]; spends: Spend[]; calls: number; priority?: Priority; retryAt?: number }
  | { kind: 'release'; grant: Grant }
  | { kind: 'move'; grant: Grant; to: number }
  | { kind: 'report' }
  | { kind: 'advance' }
  /** A release or move with no call to pick. */
  | { kind: 'none' };

export class GovernorModel {
  readonly grants: Grant[] = [];
  /** The state class under test, for properties that send it raw messages. */
  readonly governor: AccountGovernor;

  constructor(
    readonly account: Account,
    public now = START_MS,
  ) {
    let tokens = 0;
    this.governor = AccountGovernor.start(
      undefined,
      () => `00000000-0000-4000-8000-${String(++tokens).padStart(12, '0')}`,
    );
  }

  get ledgers(): Record<string, Ledger> {
    return this.governor.view().ledgers;
  }

  get adaptations(): Partial<Record<LaneName, LaneAdaptation>> {
    return this.governor.view().adaptations;
  }

  get marginMs(): number {
    return this.account.pacing.marginMs;
  }

  /** The windows each ledger's calls are held to at most: the plan's, before any share or adaptation cuts them. */
  planWindows(): Map<string, Window[]> {
    const windows = new Map<string, Window[]>();
    for (const lane of this.lanes()) {
      for (const spend of reserveRequest(this.account, lane, 1).spends) {
        // The calls above low priority of a ledger, and its low calls, are some of its calls: held to the same windows
        // at most.
        windows
          .set(spend.ledger, spend.windows)
          .set(`${spend.ledger}:above-low`, spend.windows)
          .set(`${spend.ledger}:low`, spend.windows);
      }
    }
    return windows;
  }

  lanes(): LaneName[] {
    return Object.keys(this.account.effectivePlan.lanes) as LaneName[];
  }

  /** The governor's reserve update: `calls` slots on `lane` for a sync holding `share` of the plan, at `priority`. */
  reserve(lane: LaneName, calls: number, share: number, priority?: Priority): Step {
    const request = reserveRequest(this.account, lane, calls, share, priority);
    const held = this.governor.pacing(request, this.now).map((spend) => ({
      ledger: spend.name,
      windows: spend.windows,
      pausedUntil: spend.ledger.pausedUntil,
    }));
    const { grant: token, slots, retryAt } = this.governor.reserve(request, this.now);
    for (const at of slots) {
      this.grants.push({ at, token, ledgers: held.map((h) => h.ledger), released: false });
    }
    return {
      kind: 'reserve',
      slots,
      spends: held,
      calls,
      ...(priority ? { priority } : {}),
      ...(retryAt !== undefined ? { retryAt } : {}),
    };
  }

  /** The last slot a reservation granted: its grant answers for its calls until GRANT_TTL_MS after it. */
  lastSlotOf(token: string): number {
    return Math.max(...this.grants.filter((g) => g.token === token).map((g) => g.at));
  }

  /** Calls granted and neither sent late nor given back: the ones a release or a move may name. */
  unsent(): Grant[] {
    return this.grants.filter((g) => !g.released && g.movedTo === undefined);
  }

  /** The governor's release signal for one granted call. */
  release(grant: Grant): Step {
    this.governor.release({ grant: grant.token, slots: [grant.at] }, this.now);
    grant.released = true;
    return { kind: 'release', grant };
  }

  /**
   * The governor's move signal for one granted call answered `lateByMs` after its slot. The signal follows the
   * answer, so the governor's clock has reached the new slot by the time it hears of it.
   */
  move(grant: Grant, lateByMs: number): Step {
    const to = grant.at + lateByMs;
    this.now = Math.max(this.now, to);
    this.governor.move({ grant: grant.token, moves: [{ from: grant.at, to }] }, this.now);
    grant.movedTo = to;
    return { kind: 'move', grant, to };
  }

  /** The governor's report signal for a rate-limit refusal of a call on `lane`, by the plan window `refused` if named. */
  reportRateLimited(lane: LaneName, at: number, retryAfterMs: number, refused?: Window): Step {
    const grant = this.lastGrantOn(lane);
    if (grant) {
      const refusedLimit = refused ? { refusedLimit: refused.limit } : {};
      this.governor.report({ kind: 'rate-limited', grant, at, retryAfterMs, ...refusedLimit }, this.now);
    }
    return { kind: 'report' };
  }

  /** The governor's report signal for a quota reading after a call on `lane`, at the time it was sent. */
  reportQuota(lane: LaneName, reading: { limit: number; remaining: number; resetAtMs: number }, at: number): Step {
    const grant = this.lastGrantOn(lane);
    if (grant) this.governor.report({ kind: 'quota', grant, at, reading }, this.now);
    return { kind: 'report' };
  }

  apply(command: Command): Step {
    switch (command.kind) {
      case 'reserve':
        return this.reserve(this.onPlan(command.lane), command.calls, command.share, command.priority);
      case 'release': {
        const grant = pick(this.unsent(), command.pick);
        return grant ? this.release(grant) : { kind: 'none' };
      }
      case 'move': {
        const grant = pick(this.unsent(), command.pick);
        return grant ? this.move(grant, command.lateByMs) : { kind: 'none' };
      }
      case 'rate-limited': {
        const lane = this.onPlan(command.lane);
        const refused = command.refused === undefined ? undefined : pick(this.laneWindows(lane), command.refused);
        return this.reportRateLimited(lane, this.now - command.agoMs, command.retryAfterMs, refused);
      }
      case 'quota': {
        const lane = this.onPlan(command.lane);
        const window = pick(this.laneWindows(lane), command.window)!;
        const at = this.now - command.agoMs;
        const reading = { limit: window.limit, remaining: command.remaining, resetAtMs: at + command.resetInMs };
        return this.reportQuota(lane, reading, at);
      }
      case 'advance':
        this.now += command.ms;
        return { kind: 'advance' };
    }
  }

  private laneWindows(lane: LaneName): Window[] {
    return this.account.effectivePlan.lanes[lane]!.windows;
  }

  /** The token of the latest reservation on `lane`: a report speaks for a call, and quotes its grant. */
  private lastGrantOn(lane: LaneName): string | undefined {
    return this.grants.findLast((g) => g.ledgers[0] === lane)?.token;
  }

  /** A command's lane, or general on a plan without it: commands are drawn before the plan is known to shrink alone. */
  private onPlan(lane: LaneName): LaneName {
    return this.account.effectivePlan.lanes[lane] ? lane : 'general';
  }
}

function pick<T>(items: readonly T[], index: number): T | undefined {
  return items.length === 0 ? undefined : items[index % items.length];
}

/**
 * The first `limit + 1` of `times` that fit in less than one span of `window`, if any: a window over its limit.
 * Compared as `first + span > last`, the sum the ledger itself forms, so a slot granted exactly one span after
 * another is apart from it however the float rounds.
 */
export function overfullSpan(times: readonly number[], window: PacedWindow, around?: number): number[] | undefined {
  const sorted = [...times].sort((a, b) => a - b);
  for (let i = 0; i + window.limit < sorted.length; i++) {
    const first = sorted[i]!;
    const last = sorted[i + window.limit]!;
    if (around !== undefined && (first > around || last < around)) continue;
    if (first + window.spanMs > last) return sorted.slice(i, i + window.limit + 1);
  }
  return undefined;
}

/**
 * fast-check's run options: a fresh seed each run unless FC_SEED (and FC_PATH, to go straight to the shrunk case)
 * replays a failure as fast-check printed it; FC_RUNS runs more cases for a longer search.
 */
export function runOptions(numRuns: number): fc.Parameters<unknown> {
  const { FC_SEED, FC_PATH, FC_RUNS } = process.env;
  return {
    numRuns: FC_RUNS ? Number(FC_RUNS) : numRuns,
    ...(FC_SEED ? { seed: Number(FC_SEED) } : {}),
    ...(FC_PATH ? { path: FC_PATH } : {}),
  };
}

// Arbitraries.

const lane = fc.constantFrom<LaneName>('general', 'general', 'bulk');

/** Limits small enough for a few dozen calls to fill a window, and now and then a spaced one (over MAX_BURST). */
const limit = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 12 }) }, fc.integer({ min: 51, max: 120 }));

/** 1 to 3 windows of distinct spans: a lane never has two of the same length. */
const windows = fc
  .uniqueArray(fc.constantFrom(0.5, 1, 2, 5, 10, 60, 300, 3600), { minLength: 1, maxLength: 3 })
  .chain((spans) => fc.tuple(...spans.map((seconds) => limit.map((l): Window => ({ limit: l, seconds })))));

/** LeadSquared's shape: general per 5 s, and a bulk lane of one to three calls per 5 s that also spends from general. */
const leadSquaredLike = fc
  .record({ general: fc.integer({ min: 1, max: 30 }), bulk: fc.integer({ min: 1, max: 3 }) })
  .map(({ general, bulk }) => ({
    general: { windows: [{ limit: general, seconds: 5 }], rowsPerCall: 1 },
    bulk: { windows: [{ limit: bulk, seconds: 5 }], rowsPerCall: 50, alsoSpends: ['general'] },
  }));

/** SmartLead's shape: one lane of per-second, per-minute and per-hour windows, small enough that each can bind. */
const smartLeadLike = fc
  .record({
    second: fc.integer({ min: 1, max: 10 }),
    minute: fc.integer({ min: 1, max: 60 }),
    hour: fc.integer({ min: 1, max: 300 }),
  })
  .map(({ second, minute, hour }) => ({
    general: {
      windows: [
        { limit: second, seconds: 1 },
        { limit: minute, seconds: 60 },
        { limit: hour, seconds: 3600 },
      ],
      rowsPerCall: 400,
    },
  }));

const anyLanes = fc
  .record(
    {
      general: windows,
      bulk: fc.record({ windows, alsoSpendsGeneral: fc.boolean() }),
    },
    { requiredKeys: ['general'] },
  )
  .map(({ general, bulk }) => ({
    general: { windows: general, rowsPerCall: 1 },
    ...(bulk
      ? {
          bulk: { windows: bulk.windows, rowsPerCall: 50, alsoSpends: bulk.alsoSpendsGeneral ? ['general'] : [] },
        }
      : {}),
  }));

/** An account on a custom plan of one of these shapes, parsed as the worker parses leadsync.yaml. */
export const accounts: fc.Arbitrary<Account> = fc
  .record({
    lanes: fc.oneof(leadSquaredLike, smartLeadLike, anyLanes),
    marginMs: fc.constantFrom(0, 100, 200, 300, 1000),
  })
  .map(({ lanes, marginMs }) => {
    const account = parsedAccount('acme', {
      vendor: 'leadsquared',
      plan: 'custom',
      lanes,
      baseUrl: 'https://api.example.com/v2',
      credentials: { accessKeyEnv: 'LSQ_ACCESS_KEY', secretKeyEnv: 'LSQ_SECRET_KEY' },
      pacing: { marginMs },
    });
    // A counterexample shows the plan, not the whole parsed account.
    return Object.assign(account, { [fc.toStringMethod]: () => describePlan(account) });
  });

/** `general 1/0.5s 10/60s; bulk 1/5s +general; margin 200ms` */
function describePlan(account: Account): string {
  const lanes = Object.entries(account.effectivePlan.lanes).map(([name, plan]) => {
    const windows = plan.windows.map((w) => `${w.limit}/${w.seconds}s`).join(' ');
    return [name, windows, ...plan.alsoSpends.map((other) => `+${other}`)].join(' ');
  });
  return `${[...lanes, `margin ${account.pacing.marginMs}ms`].join('; ')}`;
}

/** Mostly within a window of the last command, now and then past a minute's windows, rarely past an hour's. */
const advance = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 2_000 }) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 70_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 4_000_000 }) },
);

export const commands: fc.Arbitrary<Command[]> = fc.array(
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({
        kind: fc.constant('reserve' as const),
        lane,
        calls: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 8 }) }, fc.integer({ min: 1, max: 60 })),
        share: fc.oneof(fc.constant(1), fc.constant(0.5), fc.double({ min: 0.05, max: 1, noNaN: true })),
        // Absent: a worker older than priorities.
        priority: fc.option(fc.constantFrom(...PrioritySchema.options), { nil: undefined }),
      }),
    },
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: advance }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('move' as const),
        pick: fc.nat(),
        // The schema's bound: a move further than 10 minutes is no late answer's.
        lateByMs: fc.oneof(fc.integer({ min: 1, max: 2_000 }), fc.integer({ min: 1, max: 600_000 })),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record(
        {
          kind: fc.constant('rate-limited' as const),
          lane,
          agoMs: fc.integer({ min: 0, max: 5_000 }),
          retryAfterMs: fc.integer({ min: 0, max: 120_000 }),
          refused: fc.nat(),
        },
        { requiredKeys: ['kind', 'lane', 'agoMs', 'retryAfterMs'] },
      ),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('quota' as const),
        lane,
        window: fc.nat(),
        // A vendor's count may disagree with ours either way, or make no sense at all.
        remaining: fc.integer({ min: -5, max: 400 }),
        agoMs: fc.integer({ min: 0, max: 5_000 }),
        resetInMs: fc.integer({ min: 0, max: 3_600_000 }),
      }),
    },
  ),
  { minLength: 1, maxLength: 80, size: 'medium' },
);
