import type { Window } from '../core/plans.js';

/** One window of one lane, as a refusal or a quota reading names it. */
export interface LaneWindow {
  lane: string;
  limit: number;
  seconds: number;
}

/** How full one window is at a moment. `resetAtMs` is when its oldest admitted request slides out. */
export interface WindowUsage extends LaneWindow {
  used: number;
  remaining: number;
  resetAtMs: number;
}

export type Admission =
  | { admitted: true }
  /** `refusedBy` is the window that stays full longest; `retryAfterMs` is when every window would admit again. */
  | { admitted: false; refusedBy: LaneWindow; retryAfterMs: number };

/** Compaction threshold of a window's timestamp queue: popping from the front of an array is O(n). */
const COMPACT_AFTER = 1024;

/** The admission times still inside one window, oldest first. */
class WindowLog {
  private times: number[] = [];
  private head = 0;
  private readonly ms: number;

  constructor(readonly window: LaneWindow) {
    this.ms = window.seconds * 1000;
  }

  /** Requests admitted in (now - seconds, now]: one admitted exactly `seconds` ago has left the window. */
  used(nowMs: number): number {
    while (this.head < this.times.length && this.times[this.head]! <= nowMs - this.ms) this.head += 1;
    if (this.head > COMPACT_AFTER && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
    return this.times.length - this.head;
  }

  /** Milliseconds until this window has room for one more request (0 when it has room now). */
  waitMs(nowMs: number): number {
    const used = this.used(nowMs);
    if (used < this.window.limit) return 0;
    const freesNext = this.times[this.head + used - this.window.limit]!;
    return freesNext + this.ms - nowMs;
  }

  usage(nowMs: number): WindowUsage {
    const used = this.used(nowMs);
    const oldest = this.times[this.head];
    return {
      ...this.window,
      used,
      remaining: Math.max(0, this.window.limit - used),
      resetAtMs: oldest === undefined ? nowMs + this.ms : oldest + this.ms,
    };
  }

  record(nowMs: number): void {
    this.times.push(nowMs);
  }
}

/**
 * Strict sliding windows per lane, the strictest reading of the vendors' limits: a request is admitted iff every
 * window of every lane it spends from holds fewer than `limit` requests admitted in the last `seconds`. A call that
 * spends from several lanes (a LeadSquared bulk call counting as general too) is admitted on all or refused on all,
 * and only admitted requests count: a refused one spends nothing.
 */
export class SlidingWindowLimiter {
  private readonly lanes = new Map<string, WindowLog[]>();

  constructor(lanes: Readonly<Record<string, readonly Window[]>>) {
    for (const [lane, windows] of Object.entries(lanes)) {
      this.lanes.set(
        lane,
        windows.map((w) => new WindowLog({ lane, limit: w.limit, seconds: w.seconds })),
      );
    }
  }

  tryAdmit(lanes: readonly string[], nowMs: number): Admission {
    const logs = lanes.flatMap((lane) => this.logsOf(lane));
    let longest: { log: WindowLog; waitMs: number } | undefined;
    for (const log of logs) {
      const waitMs = log.waitMs(nowMs);
      if (waitMs > 0 && (!longest || waitMs > longest.waitMs)) longest = { log, waitMs };
    }
    if (longest) return { admitted: false, refusedBy: longest.log.window, retryAfterMs: longest.waitMs };
    for (const log of logs) log.record(nowMs);
    return { admitted: true };
  }

  /** Every window of these lanes, as full as it is now. */
  usage(lanes: readonly string[], nowMs: number): WindowUsage[] {
    return lanes.flatMap((lane) => this.logsOf(lane).map((log) => log.usage(nowMs)));
  }

  private logsOf(lane: string): WindowLog[] {
    const logs = this.lanes.get(lane);
    if (!logs) throw new Error(`no lane '${lane}' in this limiter (lanes: ${[...this.lanes.keys()].join(', ')})`);
    return logs;
  }
}

/**
 * The window a client should pace by: the one with the fewest requests left, and of those the one that stays
 * full longest. This is what SmartLead's X-RateLimit-* headers describe.
 */
export function bindingWindow(usage: readonly WindowUsage[]): WindowUsage | undefined {
  let binding: WindowUsage | undefined;
  for (const u of usage) {
    if (
      !binding ||
      u.remaining < binding.remaining ||
      (u.remaining === binding.remaining && u.resetAtMs > binding.resetAtMs)
    ) {
      binding = u;
    }
  }
  return binding;
}
