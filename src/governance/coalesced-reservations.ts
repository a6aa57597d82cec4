import { setTimeout as sleep } from 'node:timers/promises';
import type { Reservation, WindowHeadroom } from '../core/governor/protocol.js';

/** One call's share of a reservation: its slot, and what the lane's windows should have left after it. */
export interface Grant {
  /** The reservation's token: messages about the call quote it. */
  grant: string;
  slot: number;
  headroom: WindowHeadroom[];
}

interface Waiting {
  resolve(grant: Grant): void;
  reject(err: unknown): void;
  signal: AbortSignal | undefined;
  /** Stopped while its update was out: its caller has gone, and a slot the answer gives it is given back. */
  gone?: boolean;
}

/**
 * Turns the reservations that the calls of one worker process ask for at the same time into one governor update
 * per round trip: every chunk in flight asking for its own slot at once would put dozens of concurrent updates on
 * one workflow, which the server then serves one workflow task at a time, and under load not at all. Requests made
 * in the same turn of the event loop (the calls of one chunk) go in one update; requests that arrive while an
 * update is out wait for it and go together in the next. Slots are handed out in arrival order. An answer that grants
 * fewer slots than asked (the rest lie beyond the priority's horizon) serves the first requests, and the others ask
 * again at the time it names, with whatever arrived meanwhile: still one update per round trip.
 */
export class CoalescedReservations {
  private readonly queues = new Map<string, { waiting: Waiting[]; busy: boolean }>();

  /**
   * A slot from `reserve(calls)`, shared with every request of the same `key` (account, lane, share, priority) waiting
   * now.
   */
  take(
    key: string,
    reserve: (calls: number) => Promise<Reservation>,
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
        resolve: (grant) => (settled(), resolve(grant)),
        reject: (err) => (settled(), reject(err)),
        signal,
      };
      waiting.push(waiter);
      if (signal?.aborted) leave();
      else signal?.addEventListener('abort', leave, { once: true });
    });
    if (!queue.busy) {
      queue.busy = true;
      queueMicrotask(() => void this.drain(key, queue, reserve, giveBack));
    }
    return granted;
  }

  private async drain(
    key: string,
    queue: { waiting: Waiting[]; busy: boolean },
    reserve: (calls: number) => Promise<Reservation>,
    giveBack: (grant: string, slot: number) => void,
  ): Promise<void> {
    while (queue.waiting.length > 0) {
      const batch = queue.waiting.splice(0);
      try {
        const { grant, slots, headroom, retryAt } = await reserve(batch.length);
        batch.splice(0, slots.length).forEach((waiting, i) => {
          if (waiting.gone) giveBack(grant, slots[i]!);
          else waiting.resolve({ grant, slot: slots[i]!, headroom: headroom[i] ?? [] });
        });
        const left = batch.filter((waiting) => !waiting.gone);
        if (left.length === 0) continue;
        queue.waiting.unshift(...left);
        await sleep(Math.max(0, (retryAt ?? 0) - Date.now()));
      } catch (err) {
        for (const waiting of batch) if (!waiting.gone) waiting.reject(err);
      }
    }
    queue.busy = false;
    this.queues.delete(key);
  }
}
