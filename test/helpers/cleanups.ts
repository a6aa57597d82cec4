import { afterEach } from 'vitest';

/**
 * What a test started and must stop (simulators, workers), undone after each test, last first: push a cleanup as
 * soon as the thing exists, so a failing test leaves nothing running.
 */
export function cleanupsAfterEach(): (() => Promise<void>)[] {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return cleanups;
}
