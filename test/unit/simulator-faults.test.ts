import { describe, expect, it } from 'vitest';
import { FaultInjector, FaultOptionsSchema } from '../../src/simulation/faults.js';

function draws(injector: FaultInjector, n: number): string[] {
  return Array.from({ length: n }, () => injector.beforeHandling() ?? 'none');
}

describe('FaultInjector', () => {
  it('strikes nothing by default', () => {
    const injector = new FaultInjector();

    expect(draws(injector, 100).every((d) => d === 'none')).toBe(true);
    expect(injector.loseResponse()).toBe(false);
    expect(injector.delayMs()).toBe(0);
  });

  it('strikes roughly the share asked for, and the same requests again for the same seed', () => {
    const first = draws(new FaultInjector({ errorRate: 0.2, dropRate: 0.1, seed: 7 }), 2_000);
    const again = draws(new FaultInjector({ errorRate: 0.2, dropRate: 0.1, seed: 7 }), 2_000);

    expect(again).toEqual(first);
    const errors = first.filter((d) => d === 'error').length;
    const drops = first.filter((d) => d === 'drop').length;
    expect(errors).toBeGreaterThan(300);
    expect(errors).toBeLessThan(500);
    expect(drops).toBeGreaterThan(130);
    expect(drops).toBeLessThan(270);
  });

  it('draws bare 500s beside enveloped ones, and replays a seed without them exactly as before they existed', () => {
    const mixed = draws(new FaultInjector({ errorRate: 0.2, bareErrorRate: 0.1, dropRate: 0.1, seed: 7 }), 2_000);
    const withoutBare = draws(new FaultInjector({ errorRate: 0.2, dropRate: 0.1, seed: 7 }), 2_000);

    const bare = mixed.filter((d) => d === 'bare-error').length;
    expect(bare).toBeGreaterThan(130);
    expect(bare).toBeLessThan(270);
    // The same draws: a request a bare 500 struck is one no other fault struck before.
    mixed.forEach((d, i) => expect(d === 'bare-error' ? 'none' : d).toBe(withoutBare[i]));
  });

  it('always strikes at rate 1', () => {
    const injector = new FaultInjector({ lostResponseRate: 1, slowMs: 50 });

    expect(injector.loseResponse()).toBe(true);
    expect(injector.delayMs()).toBe(50);
  });

  it('refuses rates outside 0..1 and early faults over 1 together', () => {
    expect(FaultOptionsSchema.safeParse({ errorRate: 1.5 }).success).toBe(false);
    expect(FaultOptionsSchema.safeParse({ errorRate: 0.6, dropRate: 0.6 }).success).toBe(false);
    expect(FaultOptionsSchema.safeParse({ errorRate: 0.5, bareErrorRate: 0.3, dropRate: 0.3 }).success).toBe(false);
    expect(FaultOptionsSchema.safeParse({ errorRat: 0.1 }).success).toBe(false);
  });
});
