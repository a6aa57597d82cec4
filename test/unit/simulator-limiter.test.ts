import { describe, expect, it } from 'vitest';
import { SlidingWindowLimiter, bindingWindow } from '../../src/simulation/sliding-window.js';

const T0 = 1_700_000_000_000;

describe('SlidingWindowLimiter', () => {
  it('admits a request iff fewer than limit were admitted in the last seconds', () => {
    const limiter = new SlidingWindowLimiter({ general: [{ limit: 2, seconds: 5 }] });

    expect(limiter.tryAdmit(['general'], T0).admitted).toBe(true);
    expect(limiter.tryAdmit(['general'], T0 + 1_000).admitted).toBe(true);
    expect(limiter.tryAdmit(['general'], T0 + 4_999).admitted).toBe(false);
    // The first request leaves the window exactly 5 s after it was admitted.
    expect(limiter.tryAdmit(['general'], T0 + 5_000).admitted).toBe(true);
    expect(limiter.tryAdmit(['general'], T0 + 5_500).admitted).toBe(false);
    expect(limiter.tryAdmit(['general'], T0 + 6_000).admitted).toBe(true);
  });

  it('slides rather than resetting at fixed boundaries', () => {
    const limiter = new SlidingWindowLimiter({ general: [{ limit: 3, seconds: 5 }] });
    for (const at of [4_000, 4_500, 4_900]) expect(limiter.tryAdmit(['general'], T0 + at).admitted).toBe(true);

    // A fixed window starting at T0 + 5 s would admit three more here.
    expect(limiter.tryAdmit(['general'], T0 + 5_100).admitted).toBe(false);
    expect(limiter.tryAdmit(['general'], T0 + 9_000).admitted).toBe(true);
  });

  it('does not count refused requests', () => {
    const limiter = new SlidingWindowLimiter({ general: [{ limit: 1, seconds: 1 }] });
    limiter.tryAdmit(['general'], T0);
    for (let i = 1; i < 10; i += 1) limiter.tryAdmit(['general'], T0 + i * 10);

    expect(limiter.tryAdmit(['general'], T0 + 1_000).admitted).toBe(true);
  });

  it('says which window refused and when every window admits again', () => {
    const limiter = new SlidingWindowLimiter({ general: [{ limit: 1, seconds: 5 }] });
    limiter.tryAdmit(['general'], T0);

    expect(limiter.tryAdmit(['general'], T0 + 2_000)).toEqual({
      admitted: false,
      refusedBy: { lane: 'general', limit: 1, seconds: 5 },
      retryAfterMs: 3_000,
    });
  });

  it('spends from several lanes all-or-nothing', () => {
    const limiter = new SlidingWindowLimiter({
      general: [{ limit: 2, seconds: 5 }],
      bulk: [{ limit: 1, seconds: 5 }],
    });
    expect(limiter.tryAdmit(['general'], T0).admitted).toBe(true);
    expect(limiter.tryAdmit(['general'], T0).admitted).toBe(true);

    // General is full: the bulk call is refused, and the bulk lane spends nothing.
    const refused = limiter.tryAdmit(['bulk', 'general'], T0 + 100);
    expect(refused).toMatchObject({ admitted: false, refusedBy: { lane: 'general' } });
    expect(limiter.usage(['bulk'], T0 + 100)[0]).toMatchObject({ used: 0, remaining: 1 });

    expect(limiter.tryAdmit(['bulk', 'general'], T0 + 5_000).admitted).toBe(true);
    expect(limiter.usage(['bulk', 'general'], T0 + 5_000).map((u) => u.used)).toEqual([1, 1]);
  });

  it('enforces every window of a lane at once, naming the one that stays full longest', () => {
    const limiter = new SlidingWindowLimiter({
      general: [
        { limit: 2, seconds: 1 },
        { limit: 3, seconds: 60 },
      ],
    });
    expect(limiter.tryAdmit(['general'], T0).admitted).toBe(true);
    expect(limiter.tryAdmit(['general'], T0).admitted).toBe(true);
    expect(limiter.tryAdmit(['general'], T0 + 1_000).admitted).toBe(true);

    const refused = limiter.tryAdmit(['general'], T0 + 2_000);
    expect(refused).toEqual({
      admitted: false,
      refusedBy: { lane: 'general', limit: 3, seconds: 60 },
      retryAfterMs: 58_000,
    });
  });

  it('keeps only admissions still inside the window, over many requests', () => {
    const limiter = new SlidingWindowLimiter({ general: [{ limit: 10, seconds: 1 }] });
    let admitted = 0;
    for (let ms = 0; ms < 20_000; ms += 10) if (limiter.tryAdmit(['general'], T0 + ms).admitted) admitted += 1;

    expect(admitted).toBe(200);
    expect(limiter.usage(['general'], T0 + 20_000)[0]!.used).toBeLessThanOrEqual(10);
  });

  it('refuses an unknown lane loudly', () => {
    const limiter = new SlidingWindowLimiter({ general: [{ limit: 1, seconds: 1 }] });

    expect(() => limiter.tryAdmit(['bulk'], T0)).toThrow(/no lane 'bulk'/);
  });
});

describe('bindingWindow', () => {
  it('is the window with the fewest requests left, the longest-lasting on a tie', () => {
    const limiter = new SlidingWindowLimiter({
      general: [
        { limit: 10, seconds: 1 },
        { limit: 60, seconds: 60 },
        { limit: 10, seconds: 3600 },
      ],
    });
    limiter.tryAdmit(['general'], T0);

    expect(bindingWindow(limiter.usage(['general'], T0))).toMatchObject({ limit: 10, seconds: 3600, remaining: 9 });
  });
});
