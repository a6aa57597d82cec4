import type { RetrySetSummary } from '../core/contract.js';

/** A run's retry set in a table cell: its rows, those stuck, and since when the oldest has failed (empty: none kept). */
export function describeRetrySet(set: RetrySetSummary | undefined): string {
  if (!set) return '';
  const stuck = set.stuckRows > 0 ? `, ${set.stuckRows} stuck` : '';
  return `${set.size} rows${stuck}${set.oldestFailedAt ? `, oldest failed ${set.oldestFailedAt}` : ''}`;
}
