import { describe, expect, it } from 'vitest';
import { ASK_LEAD_MS, AccountGovernor, GRANT_TTL_MS } from '../../src/core/governor/account-governor.js';
import type { Reservation, ReserveRequest } from '../../src/core/governor/protocol.js';
import { MAX_MESSAGE_WAIT_MS } from '../../src/core/messages.js';
import { reserveRequest } from '../../src/governance/call-pacer.js';
import { LEADSQUARED_ACCOUNT, parsedAccount } from '../helpers/accounts.js';
import type { Priority } from '../../src/core/priority.js';
import { HIGH_HOLD_MS } from '../../src/core/governor/horizon.js';
import { nextAskAt } from '../../src/governance/coalesced-reservations.js';

const account = parsedAccount('acme', { ...LEADSQUARED_ACCOUNT, plan: 'enterprise', pacing: { marginMs: 200 } });
const T0 = 1_800_000_000_000;

/** A governor whose grant tokens count up, as uuid4 would hand out distinct ones. */
function governor(options?: { joinsSlots?: boolean }): AccountGovernor {
  let tokens = 0;
  return AccountGovernor.start(
    undefined,
    () => `00000000-0000-4000-8000-${String(++tokens).padStart(12, '0')}`,
    undefined,
    options,
  );
}

const general = (calls: number): ReserveRequest => reserveRequest(account, 'general', calls);
const bulk = (calls: number): ReserveRequest => reserveRequest(account, 'bulk', calls);
const generalSlots = (g: AccountGovernor) => g.view().ledgers.general!.slots;

/** A value that throws whenever it is looked into: what a plain payload reads as under LEADSYNC_REQUIRE_ENCRYPTED. */
const refusedPayload = new Proxy(
  {},
  {
    get: () => {
      throw new Error('refused');
    },
    has: () => {
      throw new Error('refused');
    },
    ownKeys: () => {
      throw new Error('refused');
    },
    getPrototypeOf: () => {
      throw new Error('refused');
    },
  },
);

describe('the account governor reserving', () => {
  it('grants each call the earliest slot within every window, under one grant token', () => {
    const g = governor();

    const first = g.reserve(general(30), T0);

    // Enterprise: 25 general calls per 5 s, one of which the bulk lane keeps: 24 now, the rest a window later.
    expect(first.grant).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.slots.filter((slot) => slot === T0)).toHaveLength(24);
    expect(Math.min(...first.slots.filter((slot) => slot > T0))).toBeGreaterThanOrEqual(T0 + 5_200);
    expect(g.reservations).toBe(30);
  });

  it('hands out a new token for every reservation', () => {
    const g = governor();

    const tokens = new Set([g.reserve(general(1), T0).grant, g.reserve(general(1), T0).grant]);

    expect(tokens.size).toBe(2);
  });

  it('refuses, before accepting it, a reservation that spends from more ledgers than a call can', () => {
    const request = general(1);
    const tooMany = { ...request, spends: Array.from({ length: 5 }, () => request.spends[0]!) };

    expect(() => AccountGovernor.validateReserve(tooMany)).toThrow(/malformed reservation request/);
    expect(() => AccountGovernor.validateReserve(refusedPayload)).toThrow();
    expect(() => AccountGovernor.validateReserve(request)).not.toThrow();
  });
});

describe('the account governor reserving on several lanes in one update', () => {
  it('grants each lane as a reservation of its own made at the same time, in the order asked', () => {
    const together = governor();
    const apart = governor();

    const [generalGrant, bulkGrant] = together.reserveLanes([general(30), bulk(2)], T0);

    expect(generalGrant!.slots).toEqual(apart.reserve(general(30), T0).slots);
    expect(bulkGrant!.slots).toEqual(apart.reserve(bulk(2), T0).slots);
    expect(together.view().ledgers).toEqual(apart.view().ledgers);
    expect(generalGrant!.grant).not.toBe(bulkGrant!.grant);
  });

  it('refuses, before accepting them, reservations that ask twice for a lane, none, or more than the lanes', () => {
    expect(() => AccountGovernor.validateReserveLanes([general(1), general(2)])).toThrow(/once per lane/);
    expect(() => AccountGovernor.validateReserveLanes([])).toThrow(/malformed reservation request/);
    expect(() => AccountGovernor.validateReserveLanes(Array.from({ length: 5 }, () => bulk(1)))).toThrow(
      /malformed reservation request/,
    );
    expect(() => AccountGovernor.validateReserveLanes(refusedPayload)).toThrow();
    expect(() => AccountGovernor.validateReserveLanes([general(1), bulk(1)])).not.toThrow();
  });
});

describe('the account governor granting by priority', () => {
  const at = (calls: number, priority: Priority) => reserveRequest(account, 'general', calls, 1, priority);

  it('grants a normal reservation only the slots within a quarter window, and says when to ask for the rest', () => {
    const g = governor();

    const backfill = g.reserve(at(96, 'normal'), T0);

    // Enterprise's general lane keeps 24 of its 25 calls a window (5 s + 200 ms) for single calls: the first window's.
    expect(backfill.slots).toEqual(Array<number>(24).fill(T0));
    expect(backfill.retryAt).toBe(T0 + 5_200 - 1_300);
    expect(g.reservations).toBe(24);
  });

  it('gives a high sync arriving behind a long normal queue the next window, and the normal one what is left', () => {
    const g = governor();
    g.reserve(at(96, 'normal'), T0);

    const hot = g.reserve(at(10, 'high'), T0 + 100);
    const backfillOnTime = g.reserve(at(72, 'normal'), T0 + 5_200 - 1_300);
    const heldUntil = T0 + 5_200 + HIGH_HOLD_MS;
    const backfillYielding = g.reserve(at(72, 'normal'), backfillOnTime.retryAt!);

    expect(hot.slots).toEqual(Array<number>(10).fill(T0 + 5_200));
    expect(hot.retryAt).toBeUndefined();
    // While the high sync asks, the normal one holds only slots a sixteenth of a window away, and none within five
    // seconds of the high one's last: its next calls (the chunk after its check, on either lane) find room. Then the
    // normal one takes what the high one left of its window, joined to the room the high one's slots leave 200 ms
    // later: one burst.
    expect(backfillOnTime.slots).toEqual([]);
    expect(backfillOnTime.retryAt).toBe(T0 + 5_200 + 5_200 - 325);
    expect(backfillYielding.slots).toEqual(Array<number>(24).fill(T0 + 5_200 + 5_200));
    expect(Math.min(...backfillYielding.slots)).toBeGreaterThanOrEqual(heldUntil);
    expect(backfillYielding.retryAt).toBeGreaterThan(heldUntil);
  });

  it("keeps the bulk lane's next slot for a high sync whose chunks ask for it seconds after its check", () => {
    const g = governor();
    const bulkAt = (priority: Priority) => reserveRequest(account, 'bulk', 1, 1, priority);
    g.reserve(bulkAt('normal'), T0);
    const check = g.reserve(at(1, 'high'), T0 + 1_000);

    // The backfill asks for the next bulk slot on its time; the high sync's chunks, on a loaded machine, only after.
    const backfill = g.reserve(bulkAt('normal'), T0 + 5_200 - 325);
    const hot = g.reserve(bulkAt('high'), T0 + 5_000);

    expect(check.slots).toEqual([T0 + 1_000]);
    expect(backfill.slots).toEqual([]);
    expect(hot.slots).toEqual([T0 + 5_200]);
  });

  it('grants a reservation without a priority (a worker older than them) every call, as before', () => {
    const g = governor();

    const old = g.reserve(general(96), T0);

    expect(old.slots).toHaveLength(96);
    expect(old.retryAt).toBeUndefined();
  });

  it('says to ask again when the answer takes a lone slot and the burst just after it together, and before the first', () => {
    const g = governor();
    g.reserve(at(1, 'normal'), T0);
    g.reserve(at(23, 'normal'), T0 + 500);
    const ledgers = structuredClone(g.view().ledgers);

    const next = g.reserve(at(30, 'normal'), T0 + 600);
    const unchanged = structuredClone(g.view().ledgers);
    const asked = g.reserve(at(30, 'normal'), next.retryAt!);

    // A lone slot comes free at T0 + 5,200, the burst of 23 at T0 + 5,700: one update takes all 24, the lone one
    // joined to the burst.
    expect(next.slots).toEqual([]);
    expect(next.retryAt).toBe(T0 + 5_700 - 1_300);
    expect(next.askBy).toBe(T0 + 5_700 - ASK_LEAD_MS);
    expect(unchanged).toEqual(ledgers);
    expect(asked.slots).toEqual(Array<number>(24).fill(T0 + 5_700));
  });

  it('merges the moments a sync started its calls at into one burst a window: one update a window serves both lanes', () => {
    // A sync's check call, its first bulk call and its first burst of single calls go out at three moments, as its
    // activities start; a sliding window then frees room at each of them in every window after. Both lanes then ask
    // all along, each time at the moment the coalescing worker would (nextAskAt of the answers' retry times).
    const updatesPerWindow = (g: AccountGovernor) => {
      g.reserve(at(1, 'normal'), T0);
      g.reserveLanes([reserveRequest(account, 'bulk', 3, 1, 'normal')], T0 + 400);
      const updates: number[] = [];
      for (let now = T0 + 1_700; now < T0 + 12 * 5_200;) {
        const answers = g.reserveLanes([at(100, 'normal'), reserveRequest(account, 'bulk', 10, 1, 'normal')], now);
        updates.push(now);
        now = nextAskAt(answers.map(({ retryAt, askBy }) => ({ retryAt: retryAt!, askBy: askBy! })));
      }
      const steady = updates.filter((t) => t >= T0 + 4 * 5_200);
      return { perWindow: steady.length / 8, slots: generalSlots(g) };
    };

    const joined = updatesPerWindow(governor());
    const earliest = updatesPerWindow(governor({ joinsSlots: false }));

    expect(joined.perWindow).toBe(1);
    expect(earliest.perWindow).toBe(2);
    expect(new Set(joined.slots.filter((t) => t >= T0 + 4 * 5_200)).size).toBeLessThanOrEqual(9);
  });

  it('grants the calls of a spaced window at their earliest, one spacing apart, without joining', () => {
    const g = governor();
    const scale = parsedAccount('scale', {
      ...LEADSQUARED_ACCOUNT,
      plan: 'custom',
      lanes: { general: { windows: [{ limit: 1000, seconds: 5 }], rowsPerCall: 50 } },
      pacing: { marginMs: 200 },
    });
    const calls = (n: number) => reserveRequest(scale, 'general', n, 1, 'normal');
    g.reserve(calls(1000), T0);

    const next = g.reserve(calls(10), T0 + 5_200);

    expect(next.slots).toHaveLength(10);
    next.slots.forEach((slot, i) => expect(slot).toBeCloseTo(T0 + 5_200 + i * 5.2, 2));
  });

  it('lets a low reservation alone run as a normal one, and beside a normal one at its whole share take nothing', () => {
    const alone = governor();
    expect(alone.reserve(at(30, 'low'), T0).slots).toHaveLength(24);

    const shared = governor();
    shared.reserve(at(10, 'normal'), T0);
    const whileAsked = shared.reserve(at(30, 'low'), T0 + 50);
    const afterwards = shared.reserve(at(30, 'low'), whileAsked.retryAt!);

    // The normal sync's share is the whole plan: low waits until a window has passed without it asking.
    expect(whileAsked.slots).toEqual([]);
    expect(whileAsked.retryAt).toBe(T0 + 5_200);
    expect(afterwards.slots).toEqual(Array<number>(24).fill(T0 + 5_200));
  });
});

describe('the account governor holding a low reservation close', () => {
  const at = (calls: number, priority: Priority) => reserveRequest(account, 'general', calls, 1, priority);

  it('grants low, alone on the account, only a sixteenth of a window ahead: a sync arriving takes the next window', () => {
    const g = governor();
    const first = g.reserve(at(96, 'low'), T0);

    const onANormalsTime = g.reserve(at(72, 'low'), T0 + 5_200 - 1_300);
    const sync = g.reserve(at(24, 'normal'), T0 + 4_000);

    expect(first.slots).toEqual(Array<number>(24).fill(T0));
    expect(first.retryAt).toBe(T0 + 5_200 - 325);
    // Asking when a normal one would take the next window, low gets none of it yet; the sync arriving after does.
    expect(onANormalsTime.slots).toEqual([]);
    expect(onANormalsTime.retryAt).toBe(T0 + 5_200 - 325);
    expect(sync.slots).toEqual(Array<number>(24).fill(T0 + 5_200));
  });
});

describe("the account governor holding a sync's share", () => {
  it('counts a low reservation against the plan only, never against the share of a sync beside it', () => {
    const g = governor();
    g.reserve(reserveRequest(account, 'general', 12, 1, 'low'), T0);

    const sync = g.reserve(reserveRequest(account, 'general', 30, 0.5, 'normal'), T0);
    const more = g.reserve(reserveRequest(account, 'general', 1, 1, 'low'), T0);

    // Half of the 24 calls a window the general lane keeps for single calls, whatever the low one holds; then full.
    expect(sync.slots).toEqual(Array<number>(12).fill(T0));
    expect(more.slots).toEqual([]);
  });

  it('holds a low reservation to what the share of a sync asking beside it leaves, whoever asks first', () => {
    const g = governor();
    g.reserve(reserveRequest(account, 'general', 1, 0.6, 'normal'), T0);

    const low = g.reserve(reserveRequest(account, 'general', 30, 1, 'low'), T0 + 10);
    const sync = g.reserve(reserveRequest(account, 'general', 30, 0.6, 'normal'), T0 + 20);

    // Of the 24 single calls a window: 14 the sync's (60%), 10 left to low. Low asked first and took its 10 only;
    // the sync then finds the rest of its share in the same window, as if low had not asked.
    expect(low.slots).toEqual(Array<number>(10).fill(T0 + 10));
    expect(sync.slots).toEqual(Array<number>(13).fill(T0 + 20));
  });
});

describe('the account governor hearing a refusal for rate', () => {
  const refusal = (grant: string, at: number, retryAfterMs: number) => ({
    kind: 'rate-limited',
    grant,
    at,
    retryAfterMs,
  });

  it("pauses every lane the grant's calls spend from until the vendor's time", () => {
    const g = governor();
    const { grant } = g.reserve(bulk(1), T0);

    g.report(refusal(grant, T0 + 100, 5_000), T0 + 100);

    expect(g.view().ledgers.bulk!.pausedUntil).toBe(T0 + 5_100);
    expect(g.view().ledgers.general!.pausedUntil).toBe(T0 + 5_100);
    expect(g.view().rateLimitReports).toBe(1);
  });

  it('waits at most an hour, however far off the time the message names', () => {
    const g = governor();
    const { grant } = g.reserve(general(1), T0);

    g.report(refusal(grant, T0, 1e15), T0);

    expect(g.view().ledgers.general!.pausedUntil).toBe(T0 + MAX_MESSAGE_WAIT_MS);
    expect(g.reserve(general(1), T0).slots[0]).toBe(T0 + MAX_MESSAGE_WAIT_MS);
  });

  it('drops a report that quotes no grant, an unknown or expired one, or a time far from now', () => {
    const g = governor();
    const { grant, slots } = g.reserve(general(1), T0);
    const reports = [
      { kind: 'rate-limited', at: T0, retryAfterMs: 5_000 },
      refusal('00000000-0000-4000-8000-999999999999', T0, 5_000),
      refusal(grant, T0 - 3_600_000, 5_000),
      { ...refusal(grant, T0, 5_000), lanes: ['general'] },
      null,
      refusedPayload,
    ];

    for (const report of reports) g.report(report, T0);
    g.report(refusal(grant, slots[0]! + GRANT_TTL_MS + 1, 5_000), slots[0]! + GRANT_TTL_MS + 1);

    expect(g.view().ledgers.general!.pausedUntil).toBe(0);
    expect(g.view().rateLimitReports).toBe(0);
    expect(g.view().droppedMessages).toBe(reports.length + 1);
  });

  it('reads a quota reading against the windows and margin of the reservation it quotes', () => {
    const g = governor();
    const { grant } = g.reserve(general(1), T0);

    // One call of ours in the window, yet the vendor says 20 of 25 are gone: another client spends 19.
    g.report({ kind: 'quota', grant, at: T0, reading: { limit: 25, remaining: 5, resetAtMs: T0 + 5_000 } }, T0);

    expect(g.view().quotaReports).toBe(1);
    expect(g.view().adaptations.general?.['5']?.factor).toBeCloseTo(6 / 25);
  });
});

describe('the account governor giving back slots', () => {
  it('frees a slot its grant holds, for the next call to take', () => {
    const g = governor();
    const first = g.reserve(general(24), T0);
    const { grant, slots } = g.reserve(general(1), T0);
    expect(slots[0]).toBe(T0 + 5_200);

    g.release({ grant, slots }, T0);

    expect(generalSlots(g)).toEqual(first.slots);
    expect(g.reserve(general(1), T0).slots).toEqual(slots);
  });

  it("frees only its grant's slot, once, though other grants hold slots at the same time", () => {
    const g = governor();
    const a = g.reserve(general(1), T0);
    const b = g.reserve(general(12), T0);
    expect(b.slots.every((slot) => slot === a.slots[0])).toBe(true);

    g.release({ grant: a.grant, slots: [T0, T0] }, T0);
    g.release({ grant: a.grant, slots: [T0] }, T0);

    expect(generalSlots(g)).toEqual(b.slots);
  });

  it('drops a release quoting no grant, or slots read from the state query', () => {
    const g = governor();
    g.reserve(general(24), T0);
    const seen = generalSlots(g);

    g.release({ ledgers: ['general', 'general:own'], slots: seen }, T0);
    g.release({ grant: '00000000-0000-4000-8000-999999999999', slots: seen }, T0);
    g.release(refusedPayload, T0);

    expect(generalSlots(g)).toHaveLength(24);
    expect(g.view().droppedMessages).toBe(3);
  });
});

describe('the account governor moving slots', () => {
  it('moves a slot its grant holds to where the vendor may have counted it, once, adding none', () => {
    const g = governor();
    const { grant } = g.reserve(general(2), T0);

    g.move({ grant, moves: [{ from: T0, to: T0 + 400 }] }, T0 + 500);
    g.move(
      {
        grant,
        moves: [
          { from: T0, to: T0 + 900 },
          { from: T0, to: T0 + 900 },
        ],
      },
      T0 + 1_000,
    );

    expect(generalSlots(g)).toEqual([T0 + 400, T0 + 900]);
  });

  it("leaves alone a move of another grant's slot, or of a slot the grant never held", () => {
    const g = governor();
    const a: Reservation = g.reserve(general(1), T0);
    const b = g.reserve(general(1), T0);

    g.move({ grant: a.grant, moves: [{ from: T0 + 1, to: T0 + 400 }] }, T0 + 1_000);
    g.move({ grant: b.grant, moves: [{ from: T0, to: T0 + 700 }] }, T0 + 1_000);
    g.move({ grant: b.grant, moves: [{ from: T0, to: T0 + 700 }] }, T0 + 1_000);

    expect(generalSlots(g)).toEqual([T0, T0 + 700]);
  });

  it('drops a move further than ten minutes, or earlier', () => {
    const g = governor();
    const { grant } = g.reserve(general(1), T0);

    g.move({ grant, moves: [{ from: T0, to: T0 + 3_600_000 }] }, T0);
    g.move({ grant, moves: [{ from: T0, to: T0 - 1 }] }, T0);

    expect(generalSlots(g)).toEqual([T0]);
    expect(g.view().droppedMessages).toBe(2);
  });

  it('holds a move said to lie ahead of its clock at its clock: the call was answered before the move was sent', () => {
    const g = governor();
    const { grant } = g.reserve(general(1), T0);

    g.move({ grant, moves: [{ from: T0, to: T0 + 60_000 }] }, T0 + 999);

    expect(generalSlots(g)).toEqual([T0 + 999]);
  });
});

describe('the account governor carried on', () => {
  it('shows its state without the grant tokens', () => {
    const g = governor();
    const { grant } = g.reserve(general(3), T0);

    const view = g.view();

    expect(view.grants).toBe(1);
    expect(JSON.stringify(view)).not.toContain(grant);
  });

  it("keeps its grants across continue-as-new, so a call's messages still count", () => {
    const g = governor();
    const { grant, slots } = g.reserve(general(25), T0);

    const next = AccountGovernor.start(structuredClone(g.carried()), () => 'unused');
    next.release({ grant, slots: slots.slice(-1) }, T0);

    expect(next.view().ledgers.general!.slots).toHaveLength(24);
  });

  it('forgets a grant once its last slot is two minutes past', () => {
    const g = governor();
    g.reserve(general(1), T0);

    g.reserve(general(1), T0 + GRANT_TTL_MS + 1);

    expect(g.view().grants).toBe(1);
  });
});
