import { pause, slotsIn, type Ledger } from './ledger.js';
import type { QuotaReading, Window } from '../plans.js';

/**
 * How much of each window of a lane leadsync lets itself use, learned from the vendor's answers: another
 * integration on the same key spends from the same windows, unseen but by what the vendor says. A rate-limit
 * refusal cuts the window's share multiplicatively; a quota reading that shows calls which are not ours cuts it to
 * what the others leave; quiet brings it back additively. Windows at their full limit are not stored, so the state
 * stays as small as the number of windows under pressure.
 *
 * Pure and deterministic: it runs inside the governor workflow, on workflow time.
 */
export type LaneAdaptation = Record<string, WindowAdaptation>;

export interface WindowAdaptation {
  /** The share of the window's limit we use, in [MIN_FACTOR, 1). */
  factor: number;
  /** Epoch ms of the last sign of pressure on this window: a refusal, or calls that are not ours. */
  pressureAt: number;
  /** Epoch ms from which the next step back up is counted. */
  steppedAt: number;
  /** Epoch ms of a refusal let go without a cut, the first after a quiet spell; absent once a cut was made. */
  forgivenAt?: number;
}

/** A refusal keeps this much of the window: fast enough to stop a run of 429s, gentle enough to recover soon. */
export const DECREASE = 0.75;
/** Each quiet period gives back this much of the limit. */
export const INCREASE = 0.05;
/** Never below this: the vendor's Retry-After, not starvation, handles a key that someone else saturates. */
export const MIN_FACTOR = 0.1;
/**
 * The first refusal of a window after a quiet spell (20 seconds, or two of the window's spans if longer) pauses the
 * lane but does not cut it: a lane paced to its window's limit draws the odd 429 from a stall on the way (a garbage
 * collection, a busy core), and a quarter of its rate for half a minute is too dear for that. A second refusal
 * within the spell is pressure: another client on the key refuses us again within a window or two of our return to
 * the limit, and cuts. Stalls come further apart: in the million-row bench (1,000 calls per 5 s) the two that drew
 * 429s in one run came 28 s apart, and a minute's spell cut the lane for them, 4% of the run's rate.
 */
export function forgiveMs(window: Pick<Window, 'seconds'>): number {
  return Math.max(FORGIVE_FLOOR_MS, 2 * window.seconds * 1000);
}
const FORGIVE_FLOOR_MS = 20_000;
/** A window is quiet after one span without pressure; long windows are retried within a minute. */
const MAX_QUIET_MS = 60_000;
const MIN_QUIET_MS = 1_000;

export function quietMs(window: Pick<Window, 'seconds'>): number {
  return Math.min(MAX_QUIET_MS, Math.max(MIN_QUIET_MS, window.seconds * 1000));
}

/** The windows as leadsync may use them now: each limit cut by the window's factor, never below one call. */
export function adaptedWindows(windows: readonly Window[], adaptation: LaneAdaptation | undefined): Window[] {
  return windows.map((w) => {
    const factor = adaptation?.[key(w)]?.factor;
    return factor === undefined ? w : { ...w, limit: Math.max(1, Math.floor(w.limit * factor)) };
  });
}

/**
 * The vendor refused for rate. `refused` is the window that refused, when the answer says which; otherwise every
 * window is suspect. `repeat` marks a refusal of the same event (one already paused for): the calls in flight
 * when the first 429 came get 429s too, and one congestion event must cut once, not once per call.
 */
export function onRefused(
  adaptation: LaneAdaptation,
  windows: readonly Window[],
  refused: Window | undefined,
  at: number,
  repeat: boolean,
): void {
  for (const window of refused ? windows.filter((w) => w.seconds === refused.seconds) : windows) {
    const current = adaptation[key(window)];
    const forgiven = current?.forgivenAt;
    if (!current || (forgiven !== undefined && at - forgiven >= forgiveMs(window))) {
      adaptation[key(window)] = { factor: 1, pressureAt: at, steppedAt: at, forgivenAt: at };
    } else if (repeat) {
      adaptation[key(window)] = { ...current, pressureAt: at, steppedAt: at };
    } else {
      adaptation[key(window)] = {
        factor: Math.max(MIN_FACTOR, current.factor * DECREASE),
        pressureAt: at,
        steppedAt: at,
      };
    }
  }
}

/**
 * The vendor said how full one window is after one of our calls. Less left than our own calls explain means another
 * client spends from it: keep to what it leaves (counted as pressure), and when the vendor says the window is full,
 * pause the ledger until the window's reset rather than run into a 429. A reading naming a limit the plan does
 * not have says nothing exact, and is left alone.
 *
 * The other client's calls are also read as a rate and assumed to go on through every longer window: the vendor
 * reads out a long window only once it is nearly full, and by then our own calls, made first, would hold what the
 * other client needs for the rest of it, and starve it. The lane's shortest (burst) window is not read as a rate:
 * it holds too few calls for one.
 */
export function onQuotaReading(
  adaptation: LaneAdaptation,
  ledger: Ledger,
  windows: readonly Window[],
  reading: QuotaReading,
  at: number,
  marginMs: number,
): void {
  const window = windows.find((w) => w.limit === reading.limit);
  if (!window) return;
  const foreign = reading.limit - reading.remaining - ownCalls(ledger, window, at, marginMs);
  if (foreign <= 0) return;
  leaveToOthers(adaptation, window, foreign, at);
  const shortest = Math.min(...windows.map((w) => w.seconds));
  if (window.seconds > shortest) {
    for (const longer of windows.filter((w) => w.seconds > window.seconds)) {
      leaveToOthers(adaptation, longer, (foreign * longer.seconds) / window.seconds, at);
    }
  }
  if (reading.remaining === 0) pause(ledger, reading.resetAtMs);
}

function leaveToOthers(adaptation: LaneAdaptation, window: Window, foreign: number, at: number): void {
  const leftToUs = Math.max(MIN_FACTOR, (window.limit - foreign) / window.limit);
  const current = adaptation[key(window)]?.factor ?? 1;
  adaptation[key(window)] = { factor: Math.min(current, leftToUs), pressureAt: at, steppedAt: at };
}

/**
 * Our calls the vendor may count in the window ending at `at`. The span is widened by the margin, as a call may be
 * made that late after its slot: erring towards our own calls never mistakes them for someone else's.
 */
export function ownCalls(ledger: Ledger, window: Window, at: number, marginMs: number): number {
  return slotsIn(ledger, at - window.seconds * 1000 - marginMs, at);
}

/** Additive increase: one step per quiet period since the last pressure or step; a window back at 1 is forgotten. */
export function recover(adaptation: LaneAdaptation, now: number): void {
  for (const [seconds, window] of Object.entries(adaptation)) {
    if (window.forgivenAt !== undefined) {
      if (now - window.forgivenAt >= forgiveMs({ seconds: Number(seconds) })) delete adaptation[seconds];
      continue;
    }
    const quiet = quietMs({ seconds: Number(seconds) });
    const steps = Math.floor((now - window.steppedAt) / quiet);
    if (steps <= 0) continue;
    window.factor += steps * INCREASE;
    window.steppedAt += steps * quiet;
    if (window.factor >= 1) delete adaptation[seconds];
  }
}

/** Windows are told apart by their span: a lane never has two of the same length. */
function key(window: Pick<Window, 'seconds'>): string {
  return String(window.seconds);
}
