import type { Command } from 'commander';
import { startSync } from '../../api/syncs.js';
import { dryRun, type DryRunReport } from '../dry-run.js';
import { followProgress, summary } from '../follow.js';
import { formatSeconds } from '../progress-bar.js';
import { addPriorityOption, addSyncOptions, syncRequestFrom, type SyncOptions } from '../sync-options.js';
import { webUiLink, withClient } from '../temporal-connection.js';
import { VENDORS, type VendorRegistry } from '../../vendors/registry.js';

interface SyncCommandOptions extends SyncOptions {
  dryRun?: boolean;
  id?: string;
  json?: boolean;
  detach?: boolean;
}

export function registerSync(program: Command, registry: VendorRegistry = VENDORS): void {
  addSyncOptions(
    addPriorityOption(
      program
        .command('sync')
        .description(
          "push the rows of a source into an account, at its plan's ceiling, as a durable Temporal workflow",
        ),
    ),
    registry,
  )
    .option('--dry-run', 'read, map and check the whole source here, with no vendor call: rows, rejects, calls, time')
    .option('--id <workflowId>', 'workflow id (default: leadsync-sync-<account>-<random>)')
    .option('--json', 'print the final counts as JSON')
    .option('--detach', 'print the workflow id and Web UI link, and return without waiting')
    .action((options: SyncCommandOptions) => runSync(options, registry));
}

async function runSync(options: SyncCommandOptions, registry: VendorRegistry): Promise<void> {
  const { request, config } = await syncRequestFrom(options, registry);
  if (options.dryRun) {
    const report = await dryRun(config, request, `dry-run-${request.account}-${Date.now()}`, registry);
    process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : dryRunSummary(report));
    return;
  }
  await withClient(async (client) => {
    const handle = await startSync(client, request, { workflowId: options.id });
    const link = webUiLink(handle.workflowId, process.env, client.options.namespace);
    if (options.detach) {
      const started = { workflowId: handle.workflowId, webUi: link };
      process.stdout.write(options.json ? `${JSON.stringify(started)}\n` : `${started.workflowId}\n${started.webUi}\n`);
      return;
    }
    if (!options.json) process.stderr.write(`sync ${handle.workflowId}\n${link}\n`);
    const result = await followProgress(handle, !options.json);
    process.stdout.write(options.json ? `${JSON.stringify(result)}\n` : summary(result));
  }, config);
}

function dryRunSummary(report: DryRunReport): string {
  const lines = [
    `dry run, no vendor call: ${report.rows} rows read, ${report.valid} would be sent, ${report.rejectedRows} rejected`,
  ];
  for (const reject of report.rejects) {
    lines.push(`  row ${reject.row}${reject.field ? ` ${reject.field}` : ''}: ${reject.reason}`);
  }
  if (report.rejectsFile) lines.push(`rejects: ${report.rejectsFile}`);
  lines.push(
    `calls at plan ${report.plan}: ${report.lanes.map((l) => `${l.lane} ${l.calls} (${l.rows} rows)`).join(', ')}, ` +
      `and ${report.checkCalls} credential check`,
    `estimated time: ${formatSeconds(report.estimatedSeconds)} at ${report.rowsPerSecond.toFixed(1)} rows/s`,
  );
  return `${lines.join('\n')}\n`;
}
