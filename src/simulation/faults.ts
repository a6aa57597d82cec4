import { z } from 'zod';

const Rate = z.number().min(0).max(1);

/**
 * Faults a simulator injects, each a share of requests from 0 to 1. `errorRate`, `bareErrorRate` and `dropRate` strike
 * before the request is handled (nothing is written, no quota is spent); `lostResponseRate` strikes after a write
 * succeeded, dropping the connection without an answer, the case that tests idempotency; `slowMs` delays `slowRate` of
 * the answers. A `seed` makes which requests are struck repeatable.
 */
export const FaultOptionsSchema = z
  .object({
    /** A 500 as the vendor sends its own failures: in its error envelope (LeadSquared's MX envelope, SmartLead's). */
    errorRate: Rate.default(0),
    /** A 500 with no envelope, as a proxy or load balancer in front of the vendor answers. */
    bareErrorRate: Rate.default(0),
    dropRate: Rate.default(0),
    lostResponseRate: Rate.default(0),
    slowMs: z.number().int().min(0).default(0),
    /** Every answer is slowed when `slowMs` is given alone. */
    slowRate: Rate.default(1),
    seed: z.number().int().optional(),
  })
  .strict()
  .refine(
    (f) => f.errorRate + f.bareErrorRate + f.dropRate <= 1,
    'errorRate + bareErrorRate + dropRate cannot exceed 1',
  );
export type FaultOptions = z.input<typeof FaultOptionsSchema>;
type Faults = z.output<typeof FaultOptionsSchema>;

/** What strikes a request before it is handled. */
export type EarlyFault = 'drop' | 'error' | 'bare-error' | undefined;

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
    const { dropRate, errorRate, bareErrorRate } = this.faults;
    if (dropRate + errorRate + bareErrorRate === 0) return undefined;
    // One draw, in the same order as before bare errors existed: a seed without them replays as it did.
    const draw = this.random();
    if (draw < dropRate) return 'drop';
    if (draw < dropRate + errorRate) return 'error';
    if (draw < dropRate + errorRate + bareErrorRate) return 'bare-error';
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
