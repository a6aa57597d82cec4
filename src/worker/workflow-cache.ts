import { getHeapStatistics } from 'node:v8';

/** Open workflows an account may have at once: its governor and a sync. */
const WORKFLOWS_PER_ACCOUNT = 2;
/** Beyond them: scheduled syncs' parents, reconciliations, alerts, and accounts a reload adds. */
const OTHER_WORKFLOWS = 20;

/**
 * The workflows the worker keeps cached, the `maxCachedWorkflows` of its workflow Worker. The SDK sizes its default by
 * the heap's limit (600 per GB above 200 MB, at least 10), and Node sizes that limit by the machine's memory: a
 * worker whose heap is capped to fit a small machine (`--max-old-space-size=128`) would get 10, and replay the
 * history of every governor and sync past the tenth at each of its tasks. So never fewer than the accounts need; as
 * many as the SDK would give on a larger heap.
 */
export function workflowCacheSize(
  accounts: number,
  heapLimitMb: number = getHeapStatistics().heap_size_limit / 2 ** 20,
): number {
  const sdkDefault = Math.max(Math.floor((Math.max(heapLimitMb - 200, 0) * 600) / 1024), 10);
  return Math.max(sdkDefault, WORKFLOWS_PER_ACCOUNT * accounts + OTHER_WORKFLOWS);
}
