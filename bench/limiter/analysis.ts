/** Starts this close to the first one count as released at once: a limiter's burst, not its steady pace. */
export const INSTANT_MS = 200;

export interface StartFigures {
  activities: number;
  /** Started within INSTANT_MS of the first start. */
  instantBurst: number;
  /** Started in [first, first + 1 s). */
  firstSecond: number;
  /** Started in [first, first + window). */
  firstWindow: number;
  /** The most starts in any [t, t + window), t at a start: what a sliding-window vendor counts. */
  maxInWindow: number;
  /** Activities per second after the instant burst, until the last start; undefined when nothing came after it. */
  sustainedRate: number | undefined;
  /** Start times relative to the first, sorted. */
  offsetsMs: number[];
}

/** Figures of one load of activities released by a limiter, from each activity's start time (epoch ms). */
export function startFigures(startsMs: readonly number[], windowMs: number): StartFigures {
  if (startsMs.length === 0) throw new Error('no activity started');
  const sorted = [...startsMs].sort((a, b) => a - b);
  const first = sorted[0]!;
  const offsetsMs = sorted.map((t) => t - first);
  const countBefore = (limitMs: number) => offsetsMs.filter((offset) => offset < limitMs).length;

  let maxInWindow = 0;
  let end = 0;
  for (let start = 0; start < offsetsMs.length; start++) {
    while (end < offsetsMs.length && offsetsMs[end]! < offsetsMs[start]! + windowMs) end++;
    maxInWindow = Math.max(maxInWindow, end - start);
  }

  const instantBurst = countBefore(INSTANT_MS);
  const lastMs = offsetsMs[offsetsMs.length - 1]!;
  const after = offsetsMs.length - instantBurst;
  return {
    activities: offsetsMs.length,
    instantBurst,
    firstSecond: countBefore(1_000),
    firstWindow: countBefore(windowMs),
    maxInWindow,
    sustainedRate: after > 0 && lastMs > 0 ? (after * 1_000) / lastMs : undefined,
    offsetsMs,
  };
}
