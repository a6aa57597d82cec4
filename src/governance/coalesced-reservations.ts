import type { Reservation, WindowHeadroom } from '../core/governor/protocol.js';

/** One call's share of a reservation: its slot, and what the lane's windows should have left after it. */
export interface Grant {
  /** The reservation's token: messages about the call quote it. */
  grant: string;
  slot: number;
  headroom: WindowHeadroom[];
}

/** What one update asks for a part of its key (a lane): so many calls. */
export interface PartAsk {
  part: string;
  calls: number;
}

/** Asks the governor for every part in one update; answers a reservation per ask, in the asks' order. */
export type ReserveParts = (asks: readonly PartAsk[]) => Promise<readonly Reservation[]>;

interface Waiting {
  part: string;
  resolve(grant: Grant): void;
  reject(err: unknown): void;
  /** Stopped while its update was out: its caller has gone, and a slot the answer gives it is given back. */
  gone?: boolean;
}

interface Queue {
  waiting: Waiting[];
  busy: boolean;
  /** While the queue waits to ask again for the parts left out: those parts, and what ends the wait early. */
  resting?: { parts: Set<string>; wake: () => void };
}

/**
 * Turns the reservations that the calls of one worker process ask for at the same time into one governor update
 * per round trip: every chunk in flight asking for its own slot at once would put dozens of concurrent updates on
 * one workflow, which the server then serves one workflow task at a time, and under load not at all. Requests made
 * in the same turn of the event loop (the calls of one chunk) go in one update; requests that arrive while an
 * update is out wait for it and go together in the next; and the parts of a key (an account's lanes) go in the same
 * update, each a Temporal action saved. Slots are handed out in arrival order within a part. An answer that grants
 * fewer slots than asked (the rest lie beyond the priority's horizon) serves the first requests, and the others ask
 * again at the earliest time the answers name, with whatever arrived meanwhile; a request of a part that had nothing
 * left out asks at once.
 */
export class CoalescedReservations {
  private readonly queues = new Map<string, Queue>();

  /**
   * A slot for one call of `part`, from `reserve`, shared with every request of the same `key` (account, share,
   * priority) waiting now.
   */
  take(
    key: string,
    part: string,
    reserve: ReserveParts,
    signal?: AbortSignal,
    giveBack: (grant: string, slot: number) => void = () => {},
  ): Promise<Grant> {
    let queue = this.queues.get(key);
    if (!queue) this.queues.set(key, (queue = { waiting: [], busy: false }));
    const waiting = queue.waiting;
    const granted = new Promise<Grant>((resolve, reject) => {
      // Stopped (its sync paused, its chunk cancelled, its worker shutting down): it leaves at once, or its call would
      // wait on the governor, whose workflow may have no worker left to answer (a worker shutting down waits for its
      // activities, and they for it). Waiting to be asked for, it leaves the queue; already asked for, the answer's slot
      // for it is given back when it comes.
      const leave = () => {
        const at = waiting.indexOf(waiter);
        if (at >= 0) waiting.splice(at, 1);
        else waiter.gone = true;
        reject(signal!.reason);
      };
      const settled = () => signal?.removeEventListener('abort', leave);
      const waiter: Waiting = {
        part,
        resolve: (grant) => (settled(), resolve(grant)),
        reject: (err) => (settled(), reject(err)),
      };
      waiting.push(waiter);
      if (signal?.aborted) leave();
      else signal?.addEventListener('abort', leave, { once: true });
    });
    if (queue.resting && !queue.resting.parts.has(part)) queue.resting.wake();
    if (!queue.busy) {
      queue.busy = true;
      const started = queue;
      queueMicrotask(() => void this.drain(key, started, reserve, giveBack));
    }
    return granted;
  }

  private async drain(
    key: string,
    queue: Queue,
    reserve: ReserveParts,
    giveBack: (grant: string, slot: number) => void,
  ): Promise<void> {
    while (queue.waiting.length > 0) {
      const batch = queue.waiting.splice(0);
      const parts = [...new Set(batch.map((waiting) => waiting.part))];
      try {
        const answers = await reserve(
          parts.map((part) => ({ part, calls: batch.filter((w) => w.part === part).length })),
        );
        const left: Waiting[] = [];
        const leftParts = new Set<string>();
        const asks: { retryAt: number; askBy: number }[] = [];
        parts.forEach((part, i) => {
          const { grant, slots, headroom, retryAt = 0, askBy = retryAt } = answers[i]!;
          if (batch.filter((waiting) => waiting.part === part).length > slots.length) asks.push({ retryAt, askBy });
          batch
            .filter((waiting) => waiting.part === part)
            .forEach((waiting, j) => {
              if (j < slots.length) {
                if (waiting.gone) giveBack(grant, slots[j]!);
                else waiting.resolve({ grant, slot: slots[j]!, headroom: headroom[j] ?? [] });
              } else if (!waiting.gone) {
                left.push(waiting);
                leftParts.add(part);
              }
            });
        });
        if (left.length === 0) continue;
        queue.waiting.unshift(...left.sort((a, b) => batch.indexOf(a) - batch.indexOf(b)));
        await this.rest(queue, leftParts, nextAskAt(asks) - Date.now());
      } catch (err) {
        for (const waiting of batch) if (!waiting.gone) waiting.reject(err);
      }
    }
    queue.busy = false;
    this.queues.delete(key);
  }

  /** Waits `ms`, or less if a request of a part not among `parts` arrives: it has no reason to wait. */
  private async rest(queue: Queue, parts: Set<string>, ms: number): Promise<void> {
    if (ms <= 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => queue.resting?.wake(), ms);
      queue.resting = {
        parts,
        wake: () => {
          clearTimeout(timer);
          queue.resting = undefined;
          resolve();
        },
      };
    });
  }
}

/**
 * When to ask again for the parts left out: the latest of their retry times that is still before every part's
 * `askBy`, so that as many parts as can be are asked for in one update and none asks after its first slot.
 */
export function nextAskAt(asks: readonly { retryAt: number; askBy: number }[]): number {
  const askBy = Math.min(...asks.map((ask) => ask.askBy));
  return Math.max(...asks.map((ask) => ask.retryAt).filter((retryAt) => retryAt <= askBy));
}
