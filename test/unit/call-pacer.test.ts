import type { Client } from '@temporalio/client';
import { describe, expect, it, vi } from 'vitest';
import type { Reservation, ReserveRequest } from '../../src/core/governor/protocol.js';
import { CallPacer, reserveRequest } from '../../src/governance/call-pacer.js';
import { RateLimitedError } from '../../src/vendors/errors.js';
import { LEADSQUARED_ACCOUNT, parsedAccount } from '../helpers/accounts.js';

const account = parsedAccount('acme', { ...LEADSQUARED_ACCOUNT, pacing: { marginMs: 200 } });

interface Sent {
  workflowId: string;
  name: string;
  arg: unknown;
}

/**
 * A Temporal client whose governor answers each lane's reservation of an update with the next of `answers`, and
 * records signals.
 */
function governorAnswering(answers: ((request: ReserveRequest) => Reservation)[]) {
  const requests: ReserveRequest[] = [];
  const signals: Sent[] = [];
  const client = {
    workflow: {
      executeUpdateWithStart: async (_update: unknown, { args }: { args: [ReserveRequest[]] }) =>
        args[0].map((request) => {
          requests.push(request);
          const answer = answers.shift();
          if (!answer) throw new Error('no more reservations expected');
          return answer(request);
        }),
      getHandle: (workflowId: string) => ({
        signal: async (definition: { name: string }, arg: unknown) => {
          signals.push({ workflowId, name: definition.name, arg });
        },
      }),
    },
  };
  return { pacer: new CallPacer(client as unknown as Client, 'workflows'), requests, signals };
}

/** Each reservation's token, as the governor would hand them out. */
let grants = 0;
const nextGrant = () => `00000000-0000-4000-8000-${String(++grants).padStart(12, '0')}`;

const at =
  (slot: number, headroom: { limit: number; remaining: number }[] = []) =>
  () => ({
    grant: nextGrant(),
    slots: [slot],
    headroom: [headroom],
  });

/** Signals are sent at the end of the turn (releases) or awaited (reports): both are out after this. */
const afterTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('the ledgers a call spends from', () => {
  it('spends a general call from the general ledger and its own share, leaving room for the bulk lane', () => {
    const general = account.effectivePlan.lanes.general!.windows;

    const request = reserveRequest(account, 'general', 3, 0.5);

    expect(request).toEqual({
      spends: [
        { ledger: 'general', lane: 'general', windows: general },
        // The bulk lane spends one general call per 5 s: the general lane's own calls leave it that room.
        { ledger: 'general:own', lane: 'general', windows: general.map((w) => ({ ...w, limit: w.limit - 1 })) },
      ],
      share: 0.5,
      calls: 3,
      marginMs: 200,
    });
  });

  it('spends a bulk call from the bulk ledger and the general ledger it also counts against', () => {
    const request = reserveRequest(account, 'bulk', 1);

    expect(request.spends.map((spend) => spend.ledger)).toEqual(['bulk', 'general']);
    expect(request.share).toBe(1);
  });

  it('refuses a lane the plan does not have', () => {
    const { general } = account.effectivePlan.lanes;
    const generalOnly = { ...account, effectivePlan: { ...account.effectivePlan, lanes: { general } } };

    expect(() => reserveRequest(generalOnly, 'bulk', 1)).toThrow(/has no lane 'bulk'/);
  });
});

describe('a call paced by the governor', () => {
  it('is made at its slot, asked for at the priority given (normal when none), and its answer returned', async () => {
    const { pacer, requests } = governorAnswering([at(Date.now()), at(Date.now())]);

    const answer = await pacer.paced(account, 'general', 1, async () => 'ok');
    await pacer.paced(account, 'general', 1, async () => 'ok', { priority: 'high' });

    expect(answer).toBe('ok');
    expect(requests).toEqual([
      reserveRequest(account, 'general', 1, 1, 'normal'),
      reserveRequest(account, 'general', 1, 1, 'high'),
    ]);
  });

  it('tells the governor of a quota reading lower than our own calls explain', async () => {
    const { pacer, signals } = governorAnswering([at(Date.now(), [{ limit: 25, remaining: 20 }])]);
    const reading = { limit: 25, remaining: 12, resetAtMs: Date.now() + 5_000 };

    await pacer.paced(account, 'general', 1, async () => reading, { quotaOf: (answer) => answer });

    expect(signals).toHaveLength(1);
    expect(signals[0]).toMatchObject({ workflowId: expect.stringContaining('acme'), name: 'report' });
    expect(signals[0]!.arg).toEqual({ kind: 'quota', grant: expect.any(String), at: expect.any(Number), reading });
  });

  it("tells the governor of a refusal for rate, quoting the call's grant, and passes the refusal on", async () => {
    const reservation = at(Date.now());
    const { pacer, signals } = governorAnswering([reservation]);
    const refusal = new RateLimitedError('API calls exceeded the limit of 25 in 5 second(s)', 5_000, {
      limit: 25,
      seconds: 5,
    });

    const pacing = pacer.paced(account, 'general', 1, async () => Promise.reject(refusal));

    await expect(pacing).rejects.toBe(refusal);
    expect(signals.map((sent) => [sent.name, sent.arg])).toEqual([
      [
        'report',
        {
          kind: 'rate-limited',
          grant: expect.stringMatching(/^00000000-/),
          at: expect.any(Number),
          retryAfterMs: 5_000,
          window: { limit: 25, seconds: 5 },
        },
      ],
    ]);
  });

  it('says nothing of a reading that matches ours, or of a window the governor did not expect', async () => {
    const { pacer, signals } = governorAnswering([
      at(Date.now(), [{ limit: 25, remaining: 20 }]),
      at(Date.now(), [{ limit: 25, remaining: 20 }]),
    ]);
    const asRead = (reading: { limit: number; remaining: number }) => async () => ({ ...reading, resetAtMs: 0 });

    await pacer.paced(account, 'general', 1, asRead({ limit: 25, remaining: 20 }), { quotaOf: (a) => a });
    await pacer.paced(account, 'general', 1, asRead({ limit: 100, remaining: 1 }), { quotaOf: (a) => a });

    expect(signals).toEqual([]);
  });

  it('gives back a slot missed by more than half the margin, and asks for a new one', async () => {
    const missed = Date.now() - 1_000;
    const { pacer, requests, signals } = governorAnswering([at(missed), at(Date.now())]);
    let calls = 0;

    await pacer.paced(account, 'general', 1, async () => calls++);
    await afterTurn();

    expect(calls).toBe(1);
    expect(requests).toHaveLength(2);
    expect(signals).toEqual([
      {
        workflowId: expect.stringContaining('acme'),
        name: 'release',
        arg: { grant: expect.any(String), slots: [missed] },
      },
    ]);
  });

  it('takes a slot reached a few milliseconds late as on time, even with no margin', async () => {
    const exact = parsedAccount('acme', { ...LEADSQUARED_ACCOUNT, pacing: { marginMs: 0 } });
    const { pacer, requests, signals } = governorAnswering([at(Date.now() - 5)]);

    await pacer.paced(exact, 'general', 1, async () => 'ok');
    await afterTurn();

    // Sent, not given back (a move says where the vendor may have counted it: after its slot, as no margin covers).
    expect(requests).toHaveLength(1);
    expect(signals.map((sent) => sent.name)).toEqual(['move']);
  });

  it('gives its slot back when stopped before the call is sent, and never makes the call', async () => {
    const slot = Date.now() + 60_000;
    const { pacer, signals } = governorAnswering([at(slot)]);
    const stop = new AbortController();
    let called = false;

    const pacing = pacer.paced(account, 'general', 1, async () => (called = true), { signal: stop.signal });
    await afterTurn();
    stop.abort();

    await expect(pacing).rejects.toThrow();
    await afterTurn();
    expect(called).toBe(false);
    expect(signals.map((sent) => [sent.name, sent.arg])).toEqual([
      ['release', { grant: expect.any(String), slots: [slot] }],
    ]);
  });
});

describe('a call answered late', () => {
  const quickly = async () => 'ok';
  const after = (ms: number) => () => new Promise<string>((resolve) => setTimeout(() => resolve('ok'), ms));
  /** A slot at the moment the governor is asked. */
  const now = () => at(Date.now())();

  it('moves its slot to where the vendor may have counted it, when that is more than the margin after its slot', async () => {
    const { pacer, signals } = governorAnswering([now, now]);
    await pacer.paced(account, 'general', 1, quickly);

    await pacer.paced(account, 'general', 1, after(300));
    await afterTurn();

    expect(signals.map((sent) => sent.name)).toEqual(['move']);
    const { grant, moves } = signals[0]!.arg as { grant: string; moves: { from: number; to: number }[] };
    expect(grant).toMatch(/^00000000-/);
    expect(moves).toHaveLength(1);
    expect(moves[0]!.to - moves[0]!.from).toBeGreaterThanOrEqual(300 - 5);
  });

  it('makes a call of the same process, granted before the governor heard, ask again when it crowds the window', async () => {
    const start = Date.now();
    const later = start + 1_500;
    const twoSlots = () => ({ grant: nextGrant(), slots: [start, later], headroom: [[], []] });
    const { pacer, requests, signals } = governorAnswering([at(start), twoSlots, now]);
    await pacer.paced(account, 'general', 1, quickly);

    const [late, crowded] = await Promise.all([
      pacer.paced(account, 'general', 1, after(300)),
      pacer.paced(account, 'general', 1, quickly),
    ]);
    await afterTurn();

    expect([late, crowded]).toEqual(['ok', 'ok']);
    expect(requests.map((request) => request.calls)).toEqual([1, 2, 1]);
    expect(signals.map((sent) => [sent.name, sent.name === 'release' ? sent.arg : undefined])).toEqual([
      ['move', undefined],
      ['release', { grant: expect.any(String), slots: [later] }],
    ]);
  });

  it('moves the slots of a burst whose answers came back ever later, each only a little after the one before', async () => {
    // On a clock the test moves: on the machine's, a loaded runner's timers fire late, and calls answered within the
    // margin then seemed past it (or the burst was sent past half the margin after its slot, and asked again).
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] });
    try {
      const slot = Date.now();
      const burst = (request: ReserveRequest) => ({
        grant: nextGrant(),
        slots: Array.from({ length: request.calls }, () => slot),
        headroom: Array.from({ length: request.calls }, () => []),
      });
      const { pacer, signals } = governorAnswering([now, burst]);
      await pacer.paced(account, 'general', 1, quickly);

      // Ten calls of one slot answered 40 ms apart: the last ones reach past the 200 ms margin.
      const answered = Promise.all(
        Array.from({ length: 10 }, (_, i) => pacer.paced(account, 'general', 1, after(40 * (i + 1)))),
      );
      await vi.advanceTimersByTimeAsync(400);
      await answered;
      await afterTurn();

      const moves = signals.flatMap((sent) => (sent.arg as { moves: { from: number; to: number }[] }).moves);
      expect(signals.every((sent) => sent.name === 'move')).toBe(true);
      // 240 ms to 400 ms moved, each to when it was answered (200 ms is the margin, not past it); those answered
      // well within the margin stay put.
      expect(moves.map((move) => [move.from - slot, move.to - slot])).toEqual([
        [0, 240],
        [0, 280],
        [0, 320],
        [0, 360],
        [0, 400],
      ]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('leaves alone a call answered in its usual time', async () => {
    const { pacer, requests, signals } = governorAnswering([now, now]);

    await pacer.paced(account, 'general', 1, after(100));
    await pacer.paced(account, 'general', 1, after(100));
    await afterTurn();

    expect(requests).toHaveLength(2);
    expect(signals).toEqual([]);
  });
});
