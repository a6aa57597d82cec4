import type { PacedWindow } from './ledger.js';
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
 *   lower one on another lane, and wait a window more.
 */
export const MIN_HORIZON_MS = 1_000;
export const HIGH_HOLD_MS = 2_000;

/**
 * What lower priorities yield to (epoch ms): when each priority above low last asked for slots on the account, and
 * until when the slots after a high reservation's last are kept for it.
 */
export interface Wanted {
  high?: number;
  normal?: number;
  heldUntil?: number;
}

const ABOVE: Record<Priority, readonly ('high' | 'normal')[]> = {
  high: [],
  normal: ['high'],
  low: ['high', 'normal'],
};

/** The slots a reservation may take: from `notBefore`, at most `horizonMs` ahead of now. */
export interface Reach {
  notBefore: number;
  horizonMs: number;
}

export function reachOf(
  priority: Priority | undefined,
  windows: readonly PacedWindow[],
  wanted: Wanted,
  now: number,
): Reach {
  if (priority === undefined || priority === 'high') return { notBefore: now, horizonMs: Infinity };
  const shortest = Math.min(...windows.map((w) => w.spanMs));
  const horizon = Math.max(MIN_HORIZON_MS, shortest / 4);
  const yields = priority === 'low' || ABOVE[priority].some((above) => now - (wanted[above] ?? -Infinity) < shortest);
  return { notBefore: Math.max(now, wanted.heldUntil ?? 0), horizonMs: yields ? horizon / 4 : horizon };
}

/** Notes that a reservation of this priority asked now and was granted `slots`: low yields to all, so is not noted. */
export function noteWanted(
  wanted: Wanted,
  priority: Priority | undefined,
  slots: readonly number[],
  now: number,
): void {
  const asked = priority ?? 'normal';
  if (asked === 'low') return;
  wanted[asked] = now;
  if (asked === 'high' && slots.length > 0) {
    wanted.heldUntil = Math.max(wanted.heldUntil ?? 0, Math.max(...slots) + HIGH_HOLD_MS);
  }
}
