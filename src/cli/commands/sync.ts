import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { startSync, syncProgress, type SyncHandle } from '../../client/api.js';
import type { SyncResult } from '../../sync/contract.js';
import { progressLine } from '../progress-bar.js';
import { addSyncOptions, syncRequestFrom, type SyncOptions } from '../sync-options.js';
import { webUiLink, withClient } from '../temporal.js';

interface SyncCommandOptions extends SyncOptions {
  id?: string;
  json?: boolean;
  detach?: boolean;
}

export function registerSync(program: Command): void {
  addSyncOptions(
    program
      .command('sync')
      .description("push the rows of a source into an account, at its plan's ceiling, as a durable Temporal workflow"),
  )
    .option('--id <workflowId>', 'workflow id (default: leadsync-sync-<account>-<random>)')
    .option('--json', 'print the final counts as JSON')
    .option('--detach', 'print the workflow id and Web UI link, and return without waiting')
    .action((options: SyncCommandOptions) => runSync(options));
}

async function runSync(options: SyncCommandOptions): Promise<void> {
  const { request } = await syncRequestFrom(options);
  await withClient(async (client) => {
    const handle = await startSync(client, request, { workflowId: options.id });
    if (options.detach) {
      const started = { workflowId: handle.workflowId, webUi: webUiLink(handle.workflowId) };
      process.stdout.write(options.json ? `${JSON.stringify(started)}\n` : `${started.workflowId}\n${started.webUi}\n`);
      return;
    }
    if (!options.json) process.stderr.write(`sync ${handle.workflowId}\n${webUiLink(handle.workflowId)}\n`);
    const result = await followProgress(handle, !options.json);
    process.stdout.write(options.json ? `${JSON.stringify(result)}\n` : summary(result));
  });
}

/** Redraws the progress line until the workflow ends; on a terminal in place, elsewhere every few seconds. */
async function followProgress(handle: SyncHandle, show: boolean): Promise<SyncResult> {
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

function summary(result: SyncResult): string {
  const lines = [
    `${result.cancelled ? 'cancelled' : 'done'} in ${result.seconds.toFixed(1)} s: ${result.read} of ${result.totalRows} rows read, ` +
      `${result.accepted} accepted, ${result.rejected} rejected, ${result.retried} retried, ${result.calls} calls`,
  ];
  if (result.rejectsFile) lines.push(`rejects: ${result.rejectsFile}`);
  return `${lines.join('\n')}\n`;
}
