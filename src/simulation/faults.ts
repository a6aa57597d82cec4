import { z } from 'zod';

const Rate = z.number().min(0).max(1);

/**
 * Faults a simulator injects, each a share of requests from 0 to 1. `errorRate` and `dropRate` strike before the
 * request is handled (nothing is written, no quota is spent); `lostResponseRate` strikes after a write succeeded,
 * dropping the connection without an answer, the case that tests idempotency; `slowMs` delays `slowRate` of the
 * answers. A `seed` makes which requests are struck repeatable.
 */
export const FaultOptionsSchema = z
  .object({
    errorRate: Rate.default(0),
    dropRate: Rate.default(0),
    lostResponseRate: Rate.default(0),
    slowMs: z.number().int().min(0).default(0),
    /** Every answer is slowed when `slowMs` is given alone. */
    slowRate: Rate.default(1),
    seed: z.number().int().optional(),
  })
  .strict()
  .refine((f) => f.errorRate + f.dropRate <= 1, 'errorRate + dropRate cannot exceed 1');
export type FaultOptions = z.input<typeof FaultOptionsSchema>;
type Faults = z.output<typeof FaultOptionsSchema>;

/** What strikes a request before it is handled. */
export type EarlyFault = 'drop' | 'error' | undefined;

/** Draws, request by request, which faults strike; the draws are in a fixed order so a seed replays exactly. */
export class FaultInjector {
  private faults: Faults;
  private random: () => number;

  constructor(options: FaultOptions = {}) {
    this.faults = FaultOptionsSchema.parse(options);
    this.random = seededRandom(this.faults.seed);
  }

  set(options: FaultOptions): void {
    this.faults = FaultOptionsSchema.parse(options);
    this.random = seededRandom(this.faults.seed);
  }

  current(): Faults {
    return { ...this.faults };
  }

  beforeHandling(): EarlyFault {
    if (this.faults.dropRate === 0 && this.faults.errorRate === 0) return undefined;
    const draw = this.random();
    if (draw < this.faults.dropRate) return 'drop';
    if (draw < this.faults.dropRate + this.faults.errorRate) return 'error';
    return undefined;
  }

  loseResponse(): boolean {
    return this.faults.lostResponseRate > 0 && this.random() < this.faults.lostResponseRate;
  }

  delayMs(): number {
    if (this.faults.slowMs === 0) return 0;
    return this.random() < this.faults.slowRate ? this.faults.slowMs : 0;
  }
}

/** mulberry32: small, fast and good enough to spread faults; unseeded runs start anywhere. */
export function seededRandom(seed = Math.floor(Math.random() * 2 ** 32)): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
