import type { SyncProgress } from '../src/core/contract.js';

/** The Web UI's "current details" of a sync: what a person watching it wants to know, in a few lines of markdown. */
export function describeProgress(progress: SyncProgress): string {
  const { counts, totalRows, state } = progress;
  const lines = [
    `**${state}** · account \`${progress.account}\`${progress.vendor ? ` (${progress.vendor})` : ''}` +
      (progress.priority && progress.priority !== 'normal' ? ` · ${progress.priority} priority` : ''),
  ];
  if (totalRows !== undefined) {
    const percent = totalRows > 0 ? Math.floor((100 * counts.read) / totalRows) : 100;
    lines.push(
      `rows ${counts.read} of ${totalRows} (${percent}%): ${counts.accepted} accepted, ${counts.rejected} rejected` +
        (counts.unattributed > 0 ? `, ${counts.unattributed} refused by the vendor, not named` : ''),
    );
  }
  if (progress.ceilingRowsPerSecond !== undefined) {
    const recent = progress.recentRowsPerSecond;
    lines.push(
      `rate ${recent === undefined ? 'being measured' : `${recent.toFixed(1)} rows/s over the last minute`} ` +
        `(${progress.rowsPerSecond.toFixed(1)} rows/s since the start); the plan sustains ` +
        `${progress.ceilingRowsPerSecond.toFixed(1)} rows/s` +
        (progress.share < 1 ? ` (throttled to ${Math.round(progress.share * 100)}% of the plan)` : ''),
    );
  }
  if (progress.expectedFinishAt !== undefined) {
    // A time, not a countdown: the details are set as chunks end, and a countdown would stand still between them.
    lines.push(
      `expected to finish at ${new Date(progress.expectedFinishAt).toISOString()} at its own rate ` +
        `(\`leadsync status\` reckons the account's other syncs in)`,
    );
  }
  if (counts.retried > 0) lines.push(`${counts.retried} chunk attempts retried`);
  if (progress.backoffUntil !== undefined) {
    lines.push(`waiting on a rate-limit backoff until ${new Date(progress.backoffUntil).toISOString()}`);
  }
  return lines.join('\n\n');
}
