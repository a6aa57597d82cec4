import type { PacedWindow } from './ledger.js';
import type { Window } from '../plans.js';
import type { Priority } from '../priority.js';

/**
 * How far ahead of now the governor grants a reservation slots, by its priority, and from when. A slot granted is
 * kept (its call waits for it), and a call holds its windows for their span after it: a higher priority arriving
 * waits for the slots a lower one holds ahead, plus a window. So a lower priority holds little ahead, less still while
 * a higher one is asking, and none just after a high one's slots.
 *
 * - high: no bound, as before priorities; so is a reservation without a priority, from a worker older than them,
 *   which cannot ask again for the calls left out.
 * - normal: a quarter of the lane's shortest window as enforced, at least MIN_HORIZON_MS. A LeadSquared window's
 *   calls are granted as one burst just before it opens (one update per window, as before); a lane whose calls are
 *   spaced gets a second's worth or more per update.
 * - while someone of higher priority asked on the account within the lane's shortest window: a quarter of that. Only
 *   slots so near that the higher priority, asking on time, has passed them by: what it leaves.
 * - low: that quarter always, alone on the account too. Whatever it holds ahead, a sync arriving waits for: its
 *   check, then its first chunks. Holding a second ahead on a lane of 1-second windows, a reconciliation alone made a
 *   sync started beside it wait up to a second for each, 2-4% of a 24-second sync.
 * - and none within HIGH_HOLD_MS after a high reservation's last slot: a high sync's next calls are on their way (its
 *   chunks follow its check, a chunk's calls the one before), and would otherwise find the slot just after taken by a
 *   lower one on another lane, and wait a window more. On a loaded machine the chunks of a 50-row high sync asked
 *   for their bulk call 3 s after its check: a backfill had taken the bulk lane's next slot 2 s after the check, and
 *   the high sync landed in 10.4 s, a window late.
 */
export const MIN_HORIZON_MS = 1_000;
export const HIGH_HOLD_MS = 5_000;

/**
 * What lower priorities yield to (epoch ms): when each priority above low last asked for slots on the account, and
 * until when the slots after a high reservation's last are kept for it.
 */
export interface Wanted {
  high?: number;
  normal?: number;
  heldUntil?: number;
  /** The shares syncs above low last asked with, and when: at most MAX_SHARES_KEPT, the latest. */
  shares?: { share: number; at: number }[];
}

export const MAX_SHARES_KEPT = 8;

const ABOVE: Record<Priority, readonly ('high' | 'normal')[]> = {
  high: [],
  normal: ['high'],
  low: ['high', 'normal'],
};

/** The slots a reservation may take: from `notBefore`, at most `horizonMs` ahead of now. */
export interface Reach {
  notBefore: number;
  horizonMs: number;
  /** How long a slot may wait for the room freeing after it, to go with those calls (ledger.ts, joinedSlot). */
  joinMs: number;
}

export function reachOf(
  priority: Priority | undefined,
  windows: readonly PacedWindow[],
  wanted: Wanted,
  now: number,
): Reach {
  if (priority === undefined || priority === 'high') return { notBefore: now, horizonMs: Infinity, joinMs: 0 };
  const shortest = Math.min(...windows.map((w) => w.spanMs));
  const horizon = Math.max(MIN_HORIZON_MS, shortest / 4);
  const yields = priority === 'low' || ABOVE[priority].some((above) => now - (wanted[above] ?? -Infinity) < shortest);
  return {
    notBefore: Math.max(now, wanted.heldUntil ?? 0),
    horizonMs: yields ? horizon / 4 : horizon,
    joinMs: shortest / 4,
  };
}

/**
 * Notes that a reservation of this priority and share asked now and was granted `slots`: low yields to all, so is not
 * noted.
 */
export function noteWanted(
  wanted: Wanted,
  priority: Priority | undefined,
  share: number,
  slots: readonly number[],
  now: number,
): void {
  const asked = priority ?? 'normal';
  if (asked === 'low') return;
  wanted[asked] = now;
  wanted.shares = [...(wanted.shares ?? []).filter((s) => s.share !== share), { share, at: now }].slice(
    -MAX_SHARES_KEPT,
  );
  if (asked === 'high' && slots.length > 0) {
    wanted.heldUntil = Math.max(wanted.heldUntil ?? 0, Math.max(...slots) + HIGH_HOLD_MS);
  }
}

/**
 * While a sync above low has asked within the lane's shortest window (`shortestMs`): the largest share such syncs
 * asked with, and when the last ask lapses. Undefined while none has.
 */
export function aboveLow(
  wanted: Wanted,
  shortestMs: number,
  now: number,
): { share: number; until: number } | undefined {
  const asking = (wanted.shares ?? []).filter((s) => now - s.at < shortestMs);
  if (asking.length === 0) return undefined;
  return { share: Math.max(...asking.map((s) => s.share)), until: Math.max(...asking.map((s) => s.at)) + shortestMs };
}

/**
 * What a low reservation may hold of each window while syncs above it run at `share`: what the share leaves (at 0.6,
 * 40%; at a sync's default share of 1, nothing), so the share is free in every window whenever the sync asks for it.
 * Taking what is free at the moment would not do: a window slides, and the slots low takes in a gap between the
 * sync's calls stay in the window for its whole span, where the sync's next calls may find it full. And while a sync
 * asks for the whole plan (its target check does), low's calls stop, and the work they make on the worker with them:
 * a reconciliation reading at the plan's ceiling slowed the scan of a sync starting beside it by half a second.
 */
export function leftToLow(windows: readonly Window[], share: number): Window[] {
  // The share as the governor holds a sync to it (src/core/governor/account-governor.ts: at least one call a window).
  return windows.map((w) => ({ ...w, limit: Math.max(0, w.limit - Math.max(1, Math.floor(w.limit * share))) }));
}
