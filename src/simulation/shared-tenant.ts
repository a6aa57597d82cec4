import type { SlidingWindowLimiter } from './sliding-window.js';

/** Ticks at most this often: a fast rate is spent several calls a tick, not with a timer per call. */
const MIN_TICK_MS = 10;
const MAX_TICK_MS = 1_000;

/**
 * Another integration on the same key, which nobody sees but the rate limit: it spends a steady
 * `callsPerSecond` from the same windows. A call it is refused is dropped, as a client backing off would.
 */
export class SharedKeyTenant {
  private credit = 0;
  private lastMs: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private counts = { spent: 0, refused: 0 };

  constructor(
    private readonly limiter: () => SlidingWindowLimiter,
    private readonly lanes: readonly string[],
    private readonly callsPerSecond: number,
  ) {}

  /** Spends what the other client would have spent since the last tick. */
  tick(nowMs: number): void {
    if (this.lastMs !== undefined) this.credit += ((nowMs - this.lastMs) / 1000) * this.callsPerSecond;
    this.lastMs = nowMs;
    while (this.credit >= 1) {
      this.credit -= 1;
      if (this.limiter().tryAdmit(this.lanes, nowMs).admitted) this.counts.spent += 1;
      else this.counts.refused += 1;
    }
  }

  start(): void {
    if (this.callsPerSecond <= 0 || this.timer) return;
    const tickMs = Math.min(MAX_TICK_MS, Math.max(MIN_TICK_MS, 1000 / this.callsPerSecond));
    this.tick(Date.now());
    this.timer = setInterval(() => this.tick(Date.now()), tickMs);
    // The other client never keeps a process alive on its own.
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  reset(): void {
    this.credit = 0;
    this.lastMs = undefined;
    this.counts = { spent: 0, refused: 0 };
  }

  report(): { spent: number; refused: number } {
    return { ...this.counts };
  }
}
