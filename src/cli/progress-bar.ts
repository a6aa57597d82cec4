import type { SyncProgress } from '../core/contract.js';

const WIDTH = 30;

/** One line: the bar, rows done of total, the rate against the ceiling, and the time left to the expected finish. */
export function progressLine(progress: SyncProgress, now = Date.now()): string {
  const total = progress.totalRows;
  const done = progress.counts.read;
  const fraction = total ? Math.min(1, done / total) : 0;
  const filled = Math.round(fraction * WIDTH);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}]`;
  const parts = [`${bar} ${Math.floor(fraction * 100)}%`, `${done}/${total ?? '?'} rows`, progress.state];
  if (progress.priority && progress.priority !== 'normal') parts.push(`${progress.priority} priority`);
  if (progress.ceilingRowsPerSecond !== undefined) {
    // The last minute's rate: an average since the start runs far above the plan in a sync's first windows.
    const recent = progress.recentRowsPerSecond;
    const rate = recent === undefined ? 'measuring' : recent.toFixed(1);
    parts.push(`${rate} of ${progress.ceilingRowsPerSecond.toFixed(1)} rows/s`);
  }
  if (progress.expectedFinishAt !== undefined) {
    const at = new Date(progress.expectedFinishAt).toISOString().slice(11, 19);
    parts.push(`~${formatSeconds((progress.expectedFinishAt - now) / 1000)} left (finish ${at} UTC)`);
  }
  if (progress.counts.rejected > 0) parts.push(`${progress.counts.rejected} rejected`);
  if (progress.counts.unattributed > 0) parts.push(`${progress.counts.unattributed} refused by the vendor, not named`);
  if (progress.backoffUntil !== undefined)
    parts.push(`backing off until ${new Date(progress.backoffUntil).toISOString()}`);
  return parts.join(' · ');
}

export function formatSeconds(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
