import type { Window } from './plans.js';

/**
 * The reservations of one lane of one account: the times (epoch ms) at which calls were or will be made.
 * Reservations only ever move forward in time, so a new one need only look back over the newest ones.
 *
 * Pure and deterministic: it runs inside the governor workflow, on workflow time.
 */
export interface Ledger {
  /** Reserved call times, ascending; trimmed to what the longest window can still see. */
  slots: number[];
  /** No call before this time: the vendor said so (Retry-After, a rate-limit error). */
  pausedUntil: number;
}

export function emptyLedger(): Ledger {
  return { slots: [], pausedUntil: 0 };
}

/** A window as enforced: widened by the margin that absorbs clock spread and late starts. */
export interface PacedWindow {
  limit: number;
  spanMs: number;
}

export function pacedWindows(windows: readonly Window[], marginMs: number): PacedWindow[] {
  return windows.map((w) => ({ limit: w.limit, spanMs: w.seconds * 1000 + marginMs }));
}

/**
 * The earliest time at or after `notBefore` at which one more call keeps every window of every ledger
 * within its limit. A call at t conflicts with the k-th newest slot s of a window of limit k when
 * t - s < span, so t must wait until that slot has left the window.
 */
export function earliestSlot(
  ledgers: readonly { ledger: Ledger; windows: readonly PacedWindow[] }[],
  notBefore: number,
): number {
  let t = notBefore;
  for (const { ledger, windows } of ledgers) {
    t = Math.max(t, ledger.pausedUntil, ledger.slots.at(-1) ?? -Infinity);
    for (const { limit, spanMs } of windows) {
      const leaving = ledger.slots[ledger.slots.length - limit];
      if (leaving !== undefined) t = Math.max(t, leaving + spanMs);
    }
  }
  return t;
}

/** Records a call at `at` in each ledger and forgets slots no window can see any more. */
export function recordSlot(ledgers: readonly { ledger: Ledger; windows: readonly PacedWindow[] }[], at: number): void {
  for (const { ledger, windows } of ledgers) {
    ledger.slots.push(at);
    // A slot older than the longest window can never again hold a call back.
    const longest = Math.max(...windows.map((w) => w.spanMs));
    while (ledger.slots[0] !== undefined && ledger.slots[0] <= at - longest) ledger.slots.shift();
  }
}

export function pause(ledger: Ledger, until: number): void {
  ledger.pausedUntil = Math.max(ledger.pausedUntil, until);
}
