import type { PacedWindow } from './ledger.js';
import type { Priority } from '../priority.js';

/**
 * How far ahead of now the governor grants a reservation slots, by its priority. A slot granted is kept (its call
 * waits for it), and a call holds its windows for their span after it: a higher priority arriving waits for the
 * slots a lower one holds ahead, plus a window. So a lower priority holds little ahead, and less still while a
 * higher one is asking.
 *
 * - high: no bound, as before priorities; so is a reservation without a priority, from a worker older than them,
 *   which cannot ask again for the calls left out.
 * - normal and low: a quarter of the lane's shortest window as enforced, at least MIN_HORIZON_MS. A LeadSquared
 *   window's calls are granted as one burst just before it opens (one update per window, as before); a lane whose
 *   calls are spaced gets a second's worth or more per update.
 * - while someone of higher priority asked on any ledger the reservation spends from within that ledger's shortest
 *   window: a quarter of that. Only slots so near that the higher priority, asking on time, has passed them by: what
 *   it leaves. So a high sync's calls after its first find the next window free, and a low one takes what is left.
 */
export const MIN_HORIZON_MS = 1_000;

/** When each priority above low last asked for slots on a ledger (epoch ms): what a lower reservation yields to. */
export type Wanted = Partial<Record<Exclude<Priority, 'low'>, number>>;

const ABOVE: Record<Priority, readonly (keyof Wanted)[]> = { high: [], normal: ['high'], low: ['high', 'normal'] };

export function horizonMs(
  priority: Priority | undefined,
  spends: readonly { windows: readonly PacedWindow[]; wanted: Wanted | undefined }[],
  now: number,
): number {
  if (priority === undefined || priority === 'high') return Infinity;
  const horizon = Math.max(MIN_HORIZON_MS, shortestSpanMs(spends[0]!.windows) / 4);
  const yields = spends.some(({ windows, wanted }) =>
    ABOVE[priority].some((above) => now - (wanted?.[above] ?? -Infinity) < shortestSpanMs(windows)),
  );
  return yields ? horizon / 4 : horizon;
}

/** Notes that a reservation of this priority asked on these ledgers now: low yields to all, so is not noted. */
export function noteWanted(
  wanted: Record<string, Wanted>,
  ledgers: readonly string[],
  priority: Priority | undefined,
  now: number,
): void {
  const asked = priority ?? 'normal';
  if (asked === 'low') return;
  for (const ledger of ledgers) (wanted[ledger] ??= {})[asked] = now;
}

function shortestSpanMs(windows: readonly PacedWindow[]): number {
  return Math.min(...windows.map((w) => w.spanMs));
}
