import { describe, expect, it } from 'vitest';
import { workflowCacheSize } from '../../src/worker/workflow-cache.js';

describe('the workflows a worker keeps cached', () => {
  it("holds every account's governor and sync when the heap is capped", () => {
    // The SDK alone would keep 10 under a 176 MB heap (a --max-old-space-size=128 worker).
    expect(workflowCacheSize(1, 176)).toBe(22);
    expect(workflowCacheSize(100, 176)).toBe(220);
  });

  it("is the SDK's own size where the heap leaves room for more", () => {
    expect(workflowCacheSize(1, 4_144)).toBe(2_310);
    expect(workflowCacheSize(2_000, 4_144)).toBe(4_020);
  });
});
