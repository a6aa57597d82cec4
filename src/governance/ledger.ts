import type { Window } from './plans.js';

/**
 * The reservations of one lane of one account: the times (epoch ms) at which calls were or will be made.
 * Slots may lie in the future and need not arrive in order: a bulk call granted five seconds ahead also sits in
 * the general lane's ledger, and single calls may still take the general lane's free slots before it.
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
 * The earliest time at or after `notBefore` at which one more call keeps every window of every ledger within its
 * limit. Moving later can only clear a conflict or create one with a later window, so it repeats until none moves.
 */
export function earliestSlot(
  ledgers: readonly { ledger: Ledger; windows: readonly PacedWindow[] }[],
  notBefore: number,
): number {
  let t = notBefore;
  for (let moved = true; moved;) {
    moved = false;
    for (const { ledger, windows } of ledgers) {
      for (const earliest of [ledger.pausedUntil, ...windows.map((w) => firstFreeAt(ledger.slots, w, t))]) {
        if (earliest > t) {
          t = earliest;
          moved = true;
        }
      }
    }
  }
  return t;
}

/**
 * A call at t breaks a window of limit k when some k consecutive slots and t all fit in less than the span; the
 * earliest fix is to wait until the first of those slots has left the window. Groups are visited oldest first,
 * and t only moves past a group's first slot, so no group already passed can conflict again.
 */
function firstFreeAt(slots: readonly number[], { limit, spanMs }: PacedWindow, t: number): number {
  let at = t;
  for (let i = 0; i + limit <= slots.length; i++) {
    const first = slots[i]!;
    const last = slots[i + limit - 1]!;
    if (Math.max(last, at) - Math.min(first, at) < spanMs) at = first + spanMs;
  }
  return at;
}

/**
 * Records a call at `at` in each ledger, in time order, and forgets slots no window can see from `now` on: a
 * reservation is never made for a time before now.
 */
export function recordSlot(
  ledgers: readonly { ledger: Ledger; windows: readonly PacedWindow[] }[],
  at: number,
  now: number,
): void {
  for (const { ledger, windows } of ledgers) {
    const index = ledger.slots.findLastIndex((slot) => slot <= at) + 1;
    ledger.slots.splice(index, 0, at);
    const longest = Math.max(...windows.map((w) => w.spanMs));
    while (ledger.slots[0] !== undefined && ledger.slots[0] <= now - longest) ledger.slots.shift();
  }
}

export function pause(ledger: Ledger, until: number): void {
  ledger.pausedUntil = Math.max(ledger.pausedUntil, until);
}
