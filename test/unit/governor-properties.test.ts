// Properties of the governor's ledger and adaptation over random plans and random sequences of reservations,
// releases, moves, reports and time. A failure prints fast-check's seed and path: replay it with
// FC_SEED=<seed> FC_PATH=<path> npx vitest run --config vitest.config.ts --project unit test/unit/governor-properties
// (FC_RUNS=<n> searches longer).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MIN_FACTOR, adaptedWindows, onQuotaReading, onRefused, recover } from '../../src/core/governor/adaptation.js';
import type { LaneAdaptation } from '../../src/core/governor/adaptation.js';
import {
  earliestSlot,
  emptyLedger,
  pacedWindows,
  pause,
  releaseSlot,
  type Ledger,
  type PacedWindow,
} from '../../src/core/governor/ledger.js';
import type { LaneName, Window } from '../../src/core/plans.js';
import {
  GovernorModel,
  START_MS,
  accounts,
  commands,
  overfullSpan,
  runOptions,
  type Command,
  type Step,
} from '../helpers/governor-model.js';
import { GRANT_TTL_MS } from '../../src/core/governor/account-governor.js';
import { MIN_HORIZON_MS } from '../../src/core/governor/horizon.js';

const SCENARIOS = 150;
const CASES = 300;
/** Each property runs in 2 s or less on an idle machine; a loaded one must not fail them for time. */
const TIMEOUT_MS = 60_000;

/** Runs `commands` on a fresh model, calling `check` with the model before and after each step. */
function play(
  model: GovernorModel,
  script: readonly Command[],
  check: (step: Step, before: Snapshot, model: GovernorModel) => void,
): void {
  for (const command of script) {
    const before = snapshot(model);
    check(model.apply(command), before, model);
  }
}

interface Snapshot {
  ledgers: Record<string, Ledger>;
  adapted: Map<LaneName, Window[]>;
}

function snapshot(model: GovernorModel): Snapshot {
  const ledgers = Object.fromEntries(
    Object.entries(model.ledgers).map(([name, l]) => [name, { slots: [...l.slots], pausedUntil: l.pausedUntil }]),
  );
  return { ledgers, adapted: adaptedPlan(model) };
}

/** Each lane's plan windows as its adaptation leaves them now. */
function adaptedPlan(model: GovernorModel): Map<LaneName, Window[]> {
  return new Map(
    model.lanes().map((lane) => {
      const adaptation = model.adaptations[lane];
      return [lane, adaptedWindows(model.account.effectivePlan.lanes[lane]!.windows, adaptation)];
    }),
  );
}

/** A window over its limit, with where and what, for an assertion message; undefined when none is. */
function overfull(ledger: string, times: readonly number[], window: PacedWindow, around?: number): string | undefined {
  const crowd = overfullSpan(times, window, around);
  return (
    crowd && `${ledger}: ${crowd.length} calls in ${window.spanMs} ms (limit ${window.limit}): ${crowd.join(', ')}`
  );
}

/** The windows of the plan, as paced, holding more granted calls than their limit in any ledger: none, or each one. */
function grantedOverfull(model: GovernorModel): string[] {
  const found: string[] = [];
  for (const [ledger, windows] of model.planWindows()) {
    const granted = model.grants.filter((g) => !g.released && g.ledgers.includes(ledger)).map((g) => g.at);
    for (const { limit, seconds } of windows) {
      const crowd = overfull(ledger, granted, { limit, spanMs: seconds * 1000 + model.marginMs });
      if (crowd) found.push(crowd);
    }
  }
  return found;
}

const scenarios = fc.record({ account: accounts, script: commands });

describe('the governor ledger, over random plans and sequences', () => {
  it(
    'never grants more calls into a window than the plan allows, the span widened by the margin',
    () => {
      // Granted: a slot reserve handed out and not given back. A move does not change when its call was granted (it
      // records where the vendor may have counted the call), so a moved call counts at the slot it was granted.
      fc.assert(
        fc.property(scenarios, ({ account, script }) => {
          play(new GovernorModel(account), script, (_step, _before, model) => {
            expect(grantedOverfull(model).join('\n')).toBe('');
          });
        }),
        runOptions(SCENARIOS),
      );
    },
    TIMEOUT_MS,
  );

  it(
    'keeps every window a reservation spends from within the limit it was held to, moved calls included',
    () => {
      // The limit as the governor enforced it at the time: the plan's, cut by the sync's share and the lane's
      // adaptation. The ledger's moved slots count where the vendor may have counted their calls.
      fc.assert(
        fc.property(scenarios, ({ account, script }) => {
          play(new GovernorModel(account), script, (step, _before, model) => {
            if (step.kind !== 'reserve') return;
            for (const spend of step.spends) {
              const slots = model.ledgers[spend.ledger]!.slots;
              for (const window of spend.windows) {
                for (const at of step.slots) {
                  expect(overfull(spend.ledger, slots, window, at)).toBeUndefined();
                  if (window.spacingMs) expect(crowding(slots, at, window.spacingMs)).toEqual([]);
                }
              }
            }
          });
        }),
        runOptions(SCENARIOS),
      );
    },
    TIMEOUT_MS,
  );

  it(
    'holds a normal or low reservation to slots within its horizon, and names when to ask again for the calls left out',
    () => {
      // Mixed priorities run through every other property too: the window limits hold whoever asked.
      fc.assert(
        fc.property(scenarios, ({ account, script }) => {
          play(new GovernorModel(account), script, (step, _before, model) => {
            if (step.kind !== 'reserve') return;
            if (step.priority === 'normal' || step.priority === 'low') {
              const shortest = Math.min(...step.spends[0]!.windows.map((w) => w.spanMs));
              const horizon = Math.max(MIN_HORIZON_MS, shortest / 4);
              expect(Math.max(model.now, ...step.slots)).toBeLessThanOrEqual(model.now + horizon);
            } else {
              expect(step.slots).toHaveLength(step.calls);
            }
            if (step.slots.length < step.calls) {
              expect(step.retryAt).toBeGreaterThanOrEqual(model.now);
            } else {
              expect(step.retryAt).toBeUndefined();
            }
          });
        }),
        runOptions(SCENARIOS),
      );
    },
    TIMEOUT_MS,
  );

  it(
    'grants nothing before now, nor before a ledger it spends from is paused until, and never shortens a pause',
    () => {
      fc.assert(
        fc.property(scenarios, ({ account, script }) => {
          play(new GovernorModel(account), script, (step, before, model) => {
            if (step.kind === 'reserve') {
              const notBefore = Math.max(model.now, ...step.spends.map((spend) => spend.pausedUntil));
              expect(Math.min(...step.slots)).toBeGreaterThanOrEqual(notBefore);
            }
            for (const [name, ledger] of Object.entries(before.ledgers)) {
              expect(model.ledgers[name]!.pausedUntil).toBeGreaterThanOrEqual(ledger.pausedUntil);
            }
          });
        }),
        runOptions(SCENARIOS),
      );
    },
    TIMEOUT_MS,
  );

  it(
    'on a move, holds as many slots as before, none earlier, and grants the next call no sooner',
    () => {
      // The governor hears of a move once the late answer has come: its clock is past the slot's new time.
      fc.assert(
        fc.property(scenarios, ({ account, script }) => {
          const plan = new GovernorModel(account).planWindows();
          play(new GovernorModel(account), script, (step, before, model) => {
            if (step.kind !== 'move') return;
            for (const name of step.grant.ledgers) {
              const was = before.ledgers[name]!;
              const is = model.ledgers[name]!;
              expect(is.slots).toHaveLength(was.slots.length);
              is.slots.forEach((slot, i) => expect(slot).toBeGreaterThanOrEqual(was.slots[i]!));
              const windows = pacedWindows(plan.get(name)!, model.marginMs);
              const next = (ledger: Ledger) => earliestSlot([{ ledger, windows }], model.now);
              expect(next(is)).toBeGreaterThanOrEqual(next(was));
            }
          });
        }),
        runOptions(SCENARIOS),
      );
    },
    TIMEOUT_MS,
  );

  it(
    "on a release, frees that call's slot in each ledger it spends from, and nothing else; past its grant's life, nothing",
    () => {
      fc.assert(
        fc.property(scenarios, ({ account, script }) => {
          play(new GovernorModel(account), script, (step, before, model) => {
            if (step.kind !== 'release') return;
            const live = model.now - model.lastSlotOf(step.grant.token) <= GRANT_TTL_MS;
            for (const name of step.grant.ledgers) {
              const was = before.ledgers[name]!.slots;
              expect(model.ledgers[name]!.slots).toEqual(live ? withoutOne(was, step.grant.at) : was);
            }
          });
        }),
        runOptions(SCENARIOS),
      );
    },
    TIMEOUT_MS,
  );

  it(
    'never lets a report loosen a window of the plan, and lets recovery bring it back only up to the plan',
    () => {
      fc.assert(
        fc.property(scenarios, ({ account, script }) => {
          play(new GovernorModel(account), script, (step, before, model) => {
            for (const [lane, adapted] of adaptedPlan(model)) {
              expectWithinPlan(model.account.effectivePlan.lanes[lane]!.windows, adapted);
              // A report only ever tightens; any other step leaves a window where it was, or brings it back up.
              const was = before.adapted.get(lane)!;
              if (step.kind === 'report') expectNoHigher(adapted, was);
              else expectNoHigher(was, adapted);
            }
          });
        }),
        runOptions(SCENARIOS),
      );
    },
    TIMEOUT_MS,
  );
});

describe('one ledger operation, on any ledger', () => {
  const slotTimes = fc.array(
    fc.integer({ min: 0, max: 20_000 }).map((ms) => START_MS + ms),
    { maxLength: 40 },
  );
  const ledgers = fc
    .record({ slots: slotTimes, pausedUntil: fc.integer({ min: 0, max: 30_000 }).map((ms) => START_MS + ms) })
    .map(({ slots, pausedUntil }): Ledger => ({ slots: [...slots].sort((a, b) => a - b), pausedUntil }));
  /** A time the ledger holds, one next to it, or any. */
  const timeFor = (ledger: Ledger) =>
    fc.oneof(
      ...(ledger.slots.length > 0 ? [fc.constantFrom(...ledger.slots)] : []),
      fc.constantFrom(...ledger.slots.flatMap((s) => [s - 1, s + 1]), START_MS),
      fc.integer({ min: 0, max: 20_000 }).map((ms) => START_MS + ms),
    );

  it(
    'releases at most one slot, and only one the ledger holds',
    () => {
      fc.assert(
        fc.property(
          ledgers.chain((ledger) => fc.tuple(fc.constant(ledger), timeFor(ledger))),
          ([ledger, at]) => {
            const before = [...ledger.slots];

            releaseSlot(ledger, at);

            expect(ledger.slots).toEqual(withoutOne(before, at));
          },
        ),
        runOptions(CASES),
      );
    },
    TIMEOUT_MS,
  );

  it(
    "releases, as the governor takes release signals whatever slots they name, only the quoted grant's, once each",
    () => {
      fc.assert(
        fc.property(
          accounts,
          fc.integer({ min: 1, max: 20 }),
          fc.integer({ min: 1, max: 20 }),
          fc.array(fc.nat({ max: 39 }), { maxLength: 60 }),
          (account, ownCalls, otherCalls, picks) => {
            const model = new GovernorModel(account);
            model.reserve('general', ownCalls, 1);
            model.reserve('general', otherCalls, 1);
            const own = model.grants.slice(0, ownCalls);
            const every = model.grants.map((g) => g.at);
            const before = [...model.ledgers.general!.slots];

            // Any slot of either reservation, named any number of times.
            model.governor.release(
              { grant: own[0]!.token, slots: picks.map((i) => every[i % every.length]!) },
              START_MS,
            );

            const freed = [...before];
            for (const slot of model.ledgers.general!.slots) freed.splice(freed.indexOf(slot), 1);
            const ownLeft = own.map((g) => g.at);
            for (const slot of freed) {
              expect(ownLeft).toContain(slot);
              ownLeft.splice(ownLeft.indexOf(slot), 1);
            }
          },
        ),
        runOptions(CASES),
      );
    },
    TIMEOUT_MS,
  );

  it(
    'moves, as the governor takes move signals whatever they carry and whenever heard, only later and never adds a slot',
    () => {
      const time = fc.oneof(
        fc.integer({ min: START_MS - 10_000, max: START_MS + 120_000 }),
        fc.double({ min: -1e6, max: 2e13, noNaN: true }),
      );
      const moves = fc.array(fc.record({ from: fc.oneof(fc.nat({ max: 40 }), time), to: time }), { maxLength: 4 });
      fc.assert(
        fc.property(
          accounts,
          fc.integer({ min: 1, max: 40 }),
          moves,
          fc.integer({ min: 0, max: 200_000 }),
          (account, calls, signalled, heardAfterMs) => {
            const model = new GovernorModel(account);
            model.reserve('general', calls, 1);
            const { token } = model.grants[0]!;
            const slots = model.grants.map((g) => g.at);
            const before = Object.fromEntries(Object.entries(model.ledgers).map(([name, l]) => [name, [...l.slots]]));
            // Small `from`s pick one of the grant's slots, so that moves of real slots are common.
            const moves = signalled.map(({ from, to }) => ({
              from: from <= 40 ? slots[from % slots.length]! : from,
              to,
            }));

            model.governor.move({ grant: token, moves }, START_MS + heardAfterMs);

            for (const [name, slotsBefore] of Object.entries(before)) {
              const after = model.ledgers[name]!.slots;
              expect(after).toHaveLength(slotsBefore.length);
              after.forEach((slot, i) => expect(slot).toBeGreaterThanOrEqual(slotsBefore[i]!));
              expect(Math.max(...after)).toBeLessThanOrEqual(Math.max(...slotsBefore, START_MS + heardAfterMs));
            }
          },
        ),
        runOptions(CASES),
      );
    },
    TIMEOUT_MS,
  );

  it(
    'grants nothing before a pause ends, on any windows and any earlier ledger',
    () => {
      const windows = accounts.map((account) => account.effectivePlan.lanes.general!.windows);
      fc.assert(
        fc.property(
          ledgers,
          windows,
          fc.integer({ min: 0, max: 1_000 }),
          fc.integer({ min: 0, max: 60_000 }),
          fc.integer({ min: 0, max: 60_000 }),
          (ledger, plan, marginMs, pausedFor, notBeforeMs) => {
            const until = START_MS + pausedFor;
            const notBefore = START_MS + notBeforeMs;

            pause(ledger, until);
            const at = earliestSlot([{ ledger, windows: pacedWindows(plan, marginMs) }], notBefore);

            expect(at).toBeGreaterThanOrEqual(Math.max(until, notBefore));
          },
        ),
        runOptions(CASES),
      );
    },
    TIMEOUT_MS,
  );

  it(
    'never shortens a pause, in whatever order pauses come',
    () => {
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 0, max: 1e9 }), { minLength: 1, maxLength: 5 }), (pauses) => {
          const ledger = emptyLedger();

          for (const until of pauses) pause(ledger, until);

          expect(ledger.pausedUntil).toBe(Math.max(...pauses));
        }),
        runOptions(CASES),
      );
    },
    TIMEOUT_MS,
  );
});

describe('lane adaptation, over random reports', () => {
  type Report =
    | { kind: 'refused'; afterMs: number; refused?: number; repeat: boolean }
    | { kind: 'quota'; afterMs: number; window: number; remaining: number; own: number }
    | { kind: 'quiet'; afterMs: number };
  const reports: fc.Arbitrary<Report[]> = fc.array(
    fc.oneof(
      fc.record(
        {
          kind: fc.constant('refused' as const),
          afterMs: fc.integer({ min: 0, max: 90_000 }),
          refused: fc.nat(),
          repeat: fc.boolean(),
        },
        { requiredKeys: ['kind', 'afterMs', 'repeat'] },
      ),
      fc.record({
        kind: fc.constant('quota' as const),
        afterMs: fc.integer({ min: 0, max: 90_000 }),
        window: fc.nat(),
        remaining: fc.integer({ min: -5, max: 400 }),
        own: fc.integer({ min: 0, max: 50 }),
      }),
      fc.record({ kind: fc.constant('quiet' as const), afterMs: fc.integer({ min: 0, max: 600_000 }) }),
    ),
    { maxLength: 40 },
  );
  /** Applies one report as the governor does; a quiet spell is the next reservation's recovery. */
  function hear(adaptation: LaneAdaptation, plan: Window[], report: Report, now: number): void {
    if (report.kind === 'refused') {
      const refused = report.refused === undefined ? undefined : plan[report.refused % plan.length];
      onRefused(adaptation, plan, refused, now, report.repeat);
    } else if (report.kind === 'quota') {
      const window = plan[report.window % plan.length]!;
      const ledger = { slots: Array<number>(report.own).fill(now), pausedUntil: 0 };
      const reading = { limit: window.limit, remaining: report.remaining, resetAtMs: now + 1_000 };
      onQuotaReading(adaptation, ledger, plan, reading, now, 0);
    } else {
      recover(adaptation, now);
    }
  }
  const planWindows = accounts.map((account) => account.effectivePlan.lanes.general!.windows);

  it(
    'only ever cuts a window on a report, never below its floor, and only recovery raises it, up to the plan',
    () => {
      fc.assert(
        fc.property(planWindows, reports, (plan, script) => {
          const adaptation: LaneAdaptation = {};
          let now = START_MS;
          for (const report of script) {
            now += report.afterMs;
            const before = adaptedWindows(plan, adaptation);
            hear(adaptation, plan, report, now);
            const after = adaptedWindows(plan, adaptation);
            if (report.kind === 'quiet') expectNoHigher(before, after);
            else expectNoHigher(after, before);
            expectWithinPlan(plan, after);
            after.forEach((w, i) =>
              expect(w.limit).toBeGreaterThanOrEqual(Math.max(1, Math.floor(plan[i]!.limit * MIN_FACTOR))),
            );
          }
        }),
        runOptions(CASES),
      );
    },
    TIMEOUT_MS,
  );

  it(
    'gives every window back its plan limit after a long enough quiet spell',
    () => {
      fc.assert(
        fc.property(planWindows, reports, (plan, script) => {
          const adaptation: LaneAdaptation = {};
          let now = START_MS;
          for (const report of script) {
            now += report.afterMs;
            hear(adaptation, plan, report, now);
          }

          // The slowest way back: from the floor, one step per minute, or a forgiven refusal of an hourly window.
          recover(adaptation, now + 24 * 60 * 60 * 1000);

          expect(adaptation).toEqual({});
          expect(adaptedWindows(plan, adaptation)).toEqual(plan);
        }),
        runOptions(CASES),
      );
    },
    TIMEOUT_MS,
  );
});

/**
 * The slots of `slots` other than `at` itself closer to it than `spacingMs`, compared as the ledger compares them.
 */
function crowding(slots: readonly number[], at: number, spacingMs: number): number[] {
  return withoutOne(slots, at).filter((s) => s > at - spacingMs && s < at + spacingMs);
}

/** `slots` less one occurrence of `at`, if it has one. */
function withoutOne(slots: readonly number[], at: number): number[] {
  const i = slots.indexOf(at);
  return i < 0 ? [...slots] : [...slots.slice(0, i), ...slots.slice(i + 1)];
}

/** The plan's windows, same spans, each limit at least one call and at most the plan's. */
function expectWithinPlan(plan: readonly Window[], adapted: readonly Window[]): void {
  expect(adapted.map((w) => w.seconds)).toEqual(plan.map((w) => w.seconds));
  adapted.forEach((w, i) => {
    expect(w.limit).toBeGreaterThanOrEqual(1);
    expect(w.limit).toBeLessThanOrEqual(plan[i]!.limit);
  });
}

/** Each window of `lower` allows no more calls than the same window of `higher`. */
function expectNoHigher(lower: readonly Window[], higher: readonly Window[]): void {
  lower.forEach((w, i) => expect(w.limit).toBeLessThanOrEqual(higher[i]!.limit));
}
