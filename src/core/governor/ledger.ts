import type { Window } from '../plans.js';

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

/**
 * A window as enforced: widened by the margin that absorbs clock spread and late starts. A lane's shortest window,
 * when it allows more than MAX_BURST calls, also spaces them evenly (`spacingMs`): hundreds of calls granted one instant would leave together
 * and queue at the vendor, which counts each as it comes out of its queue, so the burst's last calls land later than
 * the margin allows and crowd the next window's first. Smaller bursts clear a vendor's queue well within the margin,
 * and keep the head start a short sync gets from a full window. The long-run rate is the same either way.
 */
export interface PacedWindow {
  limit: number;
  spanMs: number;
  spacingMs?: number;
}

/** The most calls a window lets leave at the same instant. */
export const MAX_BURST = 50;

export function pacedWindows(windows: readonly Window[], marginMs: number): PacedWindow[] {
  const shortest = Math.min(...windows.map((w) => w.seconds));
  return windows.map((w) => {
    const spanMs = w.seconds * 1000 + marginMs;
    const spaced = w.seconds === shortest && w.limit > MAX_BURST;
    return { limit: w.limit, spanMs, ...(spaced ? { spacingMs: spanMs / w.limit } : {}) };
  });
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
      const free = windows.map((w) => Math.max(firstFreeAt(ledger.slots, w, t), spacedFrom(ledger.slots, w, t)));
      for (const earliest of [ledger.pausedUntil, ...free]) {
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
 * The latest time in (at, latest] at which room frees in a window of one of the ledgers and a call still fits, or `at`
 * when there is none. A sliding window keeps the rhythm its calls went at: every call's room frees a span later, where
 * the next call takes it. Calls that went at different moments (a sync's first check, its first bulk call, the first
 * burst of single calls) so go at those moments in every window after, and a reservation that reaches one moment does
 * not reach the next: an update per moment and window. A call that waits for the room freeing just after its own joins
 * that moment for good, at the cost of that wait once.
 */
export function joinedSlot(
  ledgers: readonly { ledger: Ledger; windows: readonly PacedWindow[] }[],
  at: number,
  latest: number,
): number {
  const freeing = new Set<number>();
  for (const { ledger, windows } of ledgers) {
    for (const { spanMs } of windows) {
      for (let i = firstAfter(ledger.slots, at - spanMs); i < ledger.slots.length; i++) {
        const frees = ledger.slots[i]! + spanMs;
        if (frees > latest) break;
        freeing.add(frees);
      }
    }
  }
  for (const t of [...freeing].sort((a, b) => b - a)) if (earliestSlot(ledgers, t) === t) return t;
  return at;
}

/**
 * A call at t breaks a window of limit k when some k consecutive slots and t all fit in less than the span; the
 * earliest fix is to wait until the first of those slots has left the window. Groups are visited oldest first,
 * and t only moves past a group's first slot, so no group already passed can conflict again. Only groups starting
 * inside (t - span, t + span) can conflict: the scan starts at the first of them (a binary search), so an hourly
 * window of thousands of slots costs what the slots near t cost, not the whole hour.
 */
function firstFreeAt(slots: readonly number[], { limit, spanMs }: PacedWindow, t: number): number {
  // A window that holds none (what a sync at its whole share leaves a low reservation): never.
  if (limit <= 0) return Infinity;
  // After every slot (a lane kept busy reserves at its tail), only the last `limit` slots can hold t back.
  if (slots.length === 0 || t >= slots[slots.length - 1]!) {
    return slots.length < limit ? t : Math.max(t, slots[slots.length - limit]! + spanMs);
  }
  let at = t;
  for (let i = firstAfter(slots, t - spanMs); i + limit <= slots.length; i++) {
    const first = slots[i]!;
    if (first >= at + spanMs) break;
    const last = slots[i + limit - 1]!;
    if (Math.max(last, at) - Math.min(first, at) < spanMs) at = first + spanMs;
  }
  return at;
}

/** The earliest time at or after t that is at least the window's spacing away from every slot. */
function spacedFrom(slots: readonly number[], { spacingMs }: PacedWindow, t: number): number {
  if (!spacingMs) return t;
  let at = t;
  for (let i = firstAfter(slots, t - spacingMs); i < slots.length && slots[i]! < at + spacingMs; i++) {
    if (slots[i]! > at - spacingMs) at = slots[i]! + spacingMs;
  }
  return at;
}

/** Slots in (from, to]: what a vendor counting that span would count of ours. */
export function slotsIn(ledger: Ledger, from: number, to: number): number {
  return firstAfter(ledger.slots, to) - firstAfter(ledger.slots, from);
}

/** Index of the first slot after `t` (slots ascending). */
function firstAfter(slots: readonly number[], t: number): number {
  let low = 0;
  let high = slots.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (slots[mid]! <= t) low = mid + 1;
    else high = mid;
  }
  return low;
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
    ledger.slots.splice(firstAfter(ledger.slots, at), 0, at);
    const longest = Math.max(...windows.map((w) => w.spanMs));
    const forgotten = firstAfter(ledger.slots, now - longest);
    if (forgotten > 0) ledger.slots.splice(0, forgotten);
  }
}

/**
 * Gives back a slot whose call was never sent (its sync paused, its chunk stopped): one reservation at `at`, if the
 * ledger still holds it, so another call can take the room. A slot the ledger has forgotten is in the past and gone.
 */
export function releaseSlot(ledger: Ledger, at: number): void {
  const next = firstAfter(ledger.slots, at);
  if (next > 0 && ledger.slots[next - 1] === at) ledger.slots.splice(next - 1, 1);
}

/**
 * Moves a slot whose call the vendor may have counted later than the slot (its answer came late): the ledger then
 * holds the call where the vendor may hold it, and grants no later call into a window the vendor sees full. A slot
 * the ledger no longer holds is left alone: released, or forgotten as out of every window.
 */
export function moveSlot(ledger: Ledger, from: number, to: number): void {
  const next = firstAfter(ledger.slots, from);
  if (next === 0 || ledger.slots[next - 1] !== from) return;
  ledger.slots.splice(next - 1, 1);
  ledger.slots.splice(firstAfter(ledger.slots, to), 0, to);
}

export function pause(ledger: Ledger, until: number): void {
  ledger.pausedUntil = Math.max(ledger.pausedUntil, until);
}
