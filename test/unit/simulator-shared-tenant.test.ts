import { describe, expect, it } from 'vitest';
import { SharedKeyTenant } from '../../src/simulation/shared-tenant.js';
import { SlidingWindowLimiter } from '../../src/simulation/sliding-window.js';

const T0 = 1_700_000_000_000;

describe('SharedKeyTenant', () => {
  it('spends its rate from the same windows, whatever the tick spacing', () => {
    const limiter = new SlidingWindowLimiter({ general: [{ limit: 1_000, seconds: 60 }] });
    const tenant = new SharedKeyTenant(() => limiter, ['general'], 2);

    tenant.tick(T0);
    for (let ms = 100; ms <= 10_000; ms += 100) tenant.tick(T0 + ms);
    tenant.tick(T0 + 15_000);

    expect(tenant.report()).toEqual({ spent: 30, refused: 0 });
    expect(limiter.usage(['general'], T0 + 15_000)[0]!.used).toBe(30);
  });

  it('leaves less for the key owner, and drops what the windows refuse it', () => {
    const limiter = new SlidingWindowLimiter({ general: [{ limit: 5, seconds: 60 }] });
    const tenant = new SharedKeyTenant(() => limiter, ['general'], 1);
    limiter.tryAdmit(['general'], T0);
    limiter.tryAdmit(['general'], T0);

    tenant.tick(T0);
    tenant.tick(T0 + 5_000);

    expect(tenant.report()).toEqual({ spent: 3, refused: 2 });
    expect(limiter.tryAdmit(['general'], T0 + 5_000).admitted).toBe(false);
  });

  it('starts counting afresh after a reset', () => {
    const limiter = new SlidingWindowLimiter({ general: [{ limit: 100, seconds: 1 }] });
    const tenant = new SharedKeyTenant(() => limiter, ['general'], 10);
    tenant.tick(T0);
    tenant.tick(T0 + 1_000);

    tenant.reset();
    tenant.tick(T0 + 60_000);

    expect(tenant.report()).toEqual({ spent: 0, refused: 0 });
  });
});
