import { setTimeout as sleep } from 'node:timers/promises';
import { syncProgress, type SyncHandle } from '../api/syncs.js';
import type { SyncResult } from '../core/contract.js';
import type { RejectsTableReport } from '../core/rejects-ref.js';
import { progressLine } from './progress-bar.js';

/** Redraws the progress line until the workflow ends; on a terminal in place, elsewhere every few seconds. */
export async function followProgress(handle: SyncHandle, show: boolean): Promise<SyncResult> {
  const tty = process.stderr.isTTY;
  let done = false;
  const result = handle.result().finally(() => (done = true));
  let lastPrinted = 0;
  while (!done) {
    await Promise.race([result.catch(() => undefined), sleep(1_000)]);
    if (done || !show) continue;
    const progress = await syncProgress(handle).catch(() => undefined);
    if (!progress) continue;
    if (tty) process.stderr.write(`\r\x1b[2K${progressLine(progress)}`);
    else if (Date.now() - lastPrinted >= 5_000) {
      process.stderr.write(`${progressLine(progress)}\n`);
      lastPrinted = Date.now();
    }
  }
  if (show && tty) process.stderr.write('\n');
  return result;
}

export function summary(result: SyncResult): string {
  const lines = [
    `${result.cancelled ? 'cancelled' : 'done'} in ${result.seconds.toFixed(1)} s: ${result.read} of ${result.totalRows} rows read, ` +
      `${result.accepted} accepted, ${result.rejected} rejected, ${result.retried} retried, ${result.calls} calls`,
  ];
  if (result.unattributed > 0) {
    lines.push(`${result.unattributed} rows refused by the vendor without naming them (counted in the rejects report)`);
  }
  if (result.unchanged > 0)
    lines.push(`${result.unchanged} rows unchanged since they landed in an earlier run: not sent`);
  if (result.retrySet) {
    const { size, stuckRows, oldestFailedAt } = result.retrySet;
    const oldest = oldestFailedAt ? `, the oldest failing since ${oldestFailedAt}` : '';
    lines.push(`retry set: ${size} rows to send again in the next run (${stuckRows} stuck${oldest})`);
  }
  if (result.rejectsFile) lines.push(`rejects: ${result.rejectsFile}`);
  if (result.rejectsTable) lines.push(`rejects: ${describeRejectsTable(result.rejectsTable)}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Where a table's rejects are, as a person would query them:
 * `3 rows in table t (connection c), WHERE sync_id = '…' AND run_id = '…'`.
 */
export function describeRejectsTable(report: RejectsTableReport): string {
  const quoted = (value: string) => `'${value.replace(/'/g, "''")}'`;
  return (
    `${report.rows} row${report.rows === 1 ? '' : 's'} in table ${report.table} (connection ${report.connection}), ` +
    `WHERE sync_id = ${quoted(report.syncId)}${report.runId === undefined ? '' : ` AND run_id = ${quoted(report.runId)}`}`
  );
}
