import type { PacedWindow } from './ledger.js';
import type { Priority } from '../priority.js';

/**
 * How far ahead of now the governor grants a reservation slots, by its priority. A slot granted is kept (its call
 * waits for it), so what a lower priority holds ahead is what a higher one arriving must wait behind: a high sync
 * waits at most a normal one's horizon for its first slot, however many calls the normal one asked for.
 *
 * - high: no bound, as before priorities; so is a reservation without a priority, from a worker older than them,
 *   which cannot ask again for the calls left out.
 * - normal: half the lane's shortest window as enforced, at least MIN_HORIZON_MS: a LeadSquared window's calls are
 *   granted as one burst half a window before it opens (one update per window, as before), and a lane of short
 *   windows (SmartLead's second) still gets a few calls per update.
 * - low: as normal while nobody of higher priority asked on any ledger it spends from within that ledger's shortest
 *   window; otherwise a quarter of it: only slots free so soon that a higher priority asking on time has already
 *   passed them by, which is what it leaves.
 */
export const MIN_HORIZON_MS = 2_500;

/** When each priority above low last asked for slots on a ledger (epoch ms): what a low reservation yields to. */
export type Wanted = Partial<Record<Exclude<Priority, 'low'>, number>>;

export function horizonMs(
  priority: Priority | undefined,
  spends: readonly { windows: readonly PacedWindow[]; wanted: Wanted | undefined }[],
  now: number,
): number {
  if (priority === undefined || priority === 'high') return Infinity;
  const normal = Math.max(MIN_HORIZON_MS, shortestSpanMs(spends[0]!.windows) / 2);
  if (priority === 'normal') return normal;
  const contended = spends.some(
    ({ windows, wanted }) =>
      wanted !== undefined &&
      Object.values(wanted).some((at) => at !== undefined && now - at < shortestSpanMs(windows)),
  );
  return contended ? normal / 4 : normal;
}

/** Notes that a reservation of this priority asked on these ledgers now; low yields to nobody, so is not noted. */
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
