import { describe, expect, it } from 'vitest';
import { CoalescedReservations, type ReserveParts } from '../../src/governance/coalesced-reservations.js';
import type { Reservation } from '../../src/core/governor/protocol.js';

/** A key of one lane: its update asks for one part. */
const oneLane =
  (reserve: (calls: number) => Promise<Reservation>): ReserveParts =>
  async (asks) => [await reserve(asks[0]!.calls)];

/** A governor stand-in: grants `calls` consecutive slots from `next`, answering when told to. */
function fakeGovernor() {
  const requests: number[] = [];
  const answers: (() => void)[] = [];
  let next = 0;
  const reserve = (calls: number) =>
    new Promise<Reservation>((resolve) => {
      requests.push(calls);
      answers.push(() => {
        const slots = Array.from({ length: calls }, () => next++);
        resolve({
          grant: `grant-${requests.length}`,
          slots,
          headroom: slots.map((slot) => [{ limit: 60, remaining: 59 - slot }]),
        });
      });
    });
  return { requests, reserve, answerNext: () => answers.shift()!() };
}

describe('coalesced reservations', () => {
  it('sends one update at a time, and every request that arrived meanwhile goes in the next, in arrival order', async () => {
    const governor = fakeGovernor();
    const reservations = new CoalescedReservations();

    const first = reservations.take('a', 'general', oneLane(governor.reserve));
    await Promise.resolve();
    const later = [1, 2, 3].map(() => reservations.take('a', 'general', oneLane(governor.reserve)));
    expect(governor.requests).toEqual([1]);

    governor.answerNext();
    await first;
    await Promise.resolve();
    expect(governor.requests).toEqual([1, 3]);
    governor.answerNext();

    expect(await first).toEqual({ grant: 'grant-1', slot: 0, headroom: [{ limit: 60, remaining: 59 }] });
    expect((await Promise.all(later)).map((grant) => grant.slot)).toEqual([1, 2, 3]);
  });

  it('sends the requests made in one turn of the event loop (the calls of one chunk) in one update', async () => {
    const governor = fakeGovernor();
    const reservations = new CoalescedReservations();

    const grants = [1, 2, 3, 4].map(() => reservations.take('a', 'general', oneLane(governor.reserve)));
    await Promise.resolve();
    governor.answerNext();

    expect(governor.requests).toEqual([4]);
    expect((await Promise.all(grants)).map((grant) => grant.slot)).toEqual([0, 1, 2, 3]);
  });

  it('keeps keys apart: another account or share gets its own update', async () => {
    const governor = fakeGovernor();
    const reservations = new CoalescedReservations();

    void reservations.take('a', 'general', oneLane(governor.reserve));
    void reservations.take('b', 'general', oneLane(governor.reserve));
    await Promise.resolve();

    expect(governor.requests).toEqual([1, 1]);
  });

  it('serves the first requests of a partial grant, and asks again for the rest, with later ones, at its retry time', async () => {
    const requests: number[] = [];
    const askedAt: number[] = [];
    let next = 0;
    // A governor granting at most 2 calls an update, the rest to be asked for 30 ms on.
    const reserve = (calls: number) => {
      requests.push(calls);
      askedAt.push(Date.now());
      const slots = Array.from({ length: Math.min(2, calls) }, () => next++);
      return Promise.resolve<Reservation>({
        grant: `grant-${requests.length}`,
        slots,
        headroom: slots.map(() => []),
        ...(calls > 2 ? { retryAt: Date.now() + 30 } : {}),
      });
    };
    const reservations = new CoalescedReservations();

    const first = [1, 2, 3].map(() => reservations.take('a', 'general', oneLane(reserve)));
    await Promise.all(first.slice(0, 2));
    const later = reservations.take('a', 'general', oneLane(reserve));
    const asked = [...requests];
    const grants = await Promise.all([...first, later]);

    expect(asked).toEqual([3]);
    expect(requests).toEqual([3, 2]);
    expect(askedAt[1]! - askedAt[0]!).toBeGreaterThanOrEqual(29);
    expect(grants.map((grant) => [grant.grant, grant.slot])).toEqual([
      ['grant-1', 0],
      ['grant-1', 1],
      ['grant-2', 2],
      ['grant-2', 3],
    ]);
  });

  it('lets a request stopped while it waits to ask again leave, and asks for no more than the others', async () => {
    const requests: number[] = [];
    // A governor granting one call an update, the rest to be asked for 30 ms on.
    const reserve = (calls: number) => {
      requests.push(calls);
      return Promise.resolve<Reservation>({
        grant: `grant-${requests.length}`,
        slots: [requests.length],
        headroom: [[]],
        ...(calls > 1 ? { retryAt: Date.now() + 30 } : {}),
      });
    };
    const reservations = new CoalescedReservations();
    const stop = new AbortController();

    const first = reservations.take('a', 'general', oneLane(reserve));
    const stopped = reservations.take('a', 'general', oneLane(reserve), stop.signal);
    const last = reservations.take('a', 'general', oneLane(reserve));
    await first;
    stop.abort(new Error('the sync paused'));

    await expect(stopped).rejects.toThrow('the sync paused');
    await expect(last).resolves.toMatchObject({ slot: 2 });
    expect(requests).toEqual([3, 1]);
  });

  it('lets a request stopped while its update is out leave at once, and gives its slot back when the answer comes', async () => {
    const governor = fakeGovernor();
    const reservations = new CoalescedReservations();
    const stop = new AbortController();
    const givenBack: [string, number][] = [];
    const giveBack = (grant: string, slot: number) => givenBack.push([grant, slot]);

    const kept = reservations.take('a', 'general', oneLane(governor.reserve), undefined, giveBack);
    const stopped = reservations.take('a', 'general', oneLane(governor.reserve), stop.signal, giveBack);
    await Promise.resolve();
    stop.abort(new Error('the worker shuts down'));

    // Before the governor answers: a worker shutting down waits for its activities, which must not wait on it.
    await expect(stopped).rejects.toThrow('the worker shuts down');
    governor.answerNext();
    await expect(kept).resolves.toMatchObject({ slot: 0 });
    expect(givenBack).toEqual([['grant-1', 1]]);
    expect(governor.requests).toEqual([2]);
  });

  it('fails every request of a batch whose update failed, and serves the next requests afresh', async () => {
    const reservations = new CoalescedReservations();
    const failing = reservations.take('a', 'general', () => Promise.reject(new Error('governor unreachable')));

    await expect(failing).rejects.toThrow('governor unreachable');
    const governor = fakeGovernor();
    const next = reservations.take('a', 'general', oneLane(governor.reserve));
    await Promise.resolve();
    governor.answerNext();
    await expect(next).resolves.toMatchObject({ slot: 0 });
  });
  it("asks for every lane of the key in one update, and serves each lane's requests from its own reservation", async () => {
    const asked: { part: string; calls: number }[][] = [];
    const reserve: ReserveParts = (asks) => {
      asked.push([...asks]);
      return Promise.resolve(
        asks.map(({ part, calls }) => {
          const slots = Array.from({ length: calls }, (_, i) => (part === 'bulk' ? 100 : 0) + i);
          return { grant: `grant-${part}`, slots, headroom: slots.map(() => []) };
        }),
      );
    };
    const reservations = new CoalescedReservations();

    const general = [1, 2].map(() => reservations.take('a', 'general', reserve));
    const bulk = reservations.take('a', 'bulk', reserve);
    const grants = await Promise.all([...general, bulk]);

    expect(asked).toEqual([
      [
        { part: 'general', calls: 2 },
        { part: 'bulk', calls: 1 },
      ],
    ]);
    expect(grants.map((grant) => [grant.grant, grant.slot])).toEqual([
      ['grant-general', 0],
      ['grant-general', 1],
      ['grant-bulk', 100],
    ]);
  });

  it('asks at once for a lane that had nothing left out, while another lane waits for its retry time', async () => {
    const asked: string[][] = [];
    // Bulk's next slot lies beyond the horizon (asked for again in a minute); general's are granted.
    const reserve: ReserveParts = (asks) => {
      asked.push(asks.map((ask) => ask.part));
      return Promise.resolve(
        asks.map(({ part, calls }) =>
          part === 'bulk'
            ? { grant: 'grant-bulk', slots: [], headroom: [], retryAt: Date.now() + 60_000 }
            : { grant: 'grant-general', slots: Array<number>(calls).fill(1), headroom: [] },
        ),
      );
    };
    const reservations = new CoalescedReservations();
    const stop = new AbortController();

    const bulk = reservations.take('a', 'bulk', reserve, stop.signal);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const general = await reservations.take('a', 'general', reserve);

    expect(general.grant).toBe('grant-general');
    expect(asked).toEqual([['bulk'], ['bulk', 'general']]);
    stop.abort(new Error('the sync paused'));
    await expect(bulk).rejects.toThrow('the sync paused');
  });
  it("waits for another lane's retry time when that still asks before the first lane's first slot, and asks for both at once", async () => {
    const asked: { parts: string[]; at: number }[] = [];
    const start = Date.now();
    // First answer: general's next slots are to be asked for at +30 ms (by +80), bulk's at +60 ms (by +200).
    const reserve: ReserveParts = (asks) => {
      asked.push({ parts: asks.map((ask) => ask.part), at: Date.now() - start });
      const first = asked.length === 1;
      return Promise.resolve(
        asks.map(({ part }) =>
          first
            ? part === 'general'
              ? { grant: 'g', slots: [], headroom: [], retryAt: start + 30, askBy: start + 80 }
              : { grant: 'b', slots: [], headroom: [], retryAt: start + 60, askBy: start + 200 }
            : { grant: part, slots: [1], headroom: [[]] },
        ),
      );
    };
    const reservations = new CoalescedReservations();

    await Promise.all([reservations.take('a', 'general', reserve), reservations.take('a', 'bulk', reserve)]);

    expect(asked.map((ask) => ask.parts)).toEqual([
      ['general', 'bulk'],
      ['general', 'bulk'],
    ]);
    expect(asked[1]!.at).toBeGreaterThanOrEqual(59);
  });
});
