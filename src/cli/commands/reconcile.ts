import type { Command } from 'commander';
import { startReconcile } from '../../api/reconciles.js';
import { ConfigError } from '../../core/errors.js';
import { RECONCILE_SHARE, type ReconcileResult } from '../../core/reconcile.js';
import { VENDORS } from '../../vendors/registry.js';
import { addSyncOptions, syncRequestFrom, type SyncOptions } from '../sync-options.js';
import { webUiLink, withClient } from '../temporal-connection.js';

interface ReconcileCommandOptions extends SyncOptions {
  repair?: boolean;
  id?: string;
  json?: boolean;
}

export function registerReconcile(program: Command): void {
  addSyncOptions(
    program
      .command('reconcile')
      .description(
        "compare what the account holds with the source's leads, on what its syncs leave of the plan, and report drift",
      ),
    VENDORS,
    RECONCILE_SHARE,
  )
    .option('--repair', 'send the leads missing at the vendor or differing from the source again')
    .option('--id <workflowId>', 'workflow id (default: leadsync-reconcile-<account>-<random>)')
    .option('--json', 'print the result as JSON')
    .action((options: ReconcileCommandOptions) => runReconcile(options));
}

async function runReconcile(options: ReconcileCommandOptions): Promise<void> {
  if (options.records !== undefined && options.records !== 'leads') {
    throw new ConfigError(`--records: a reconciliation compares leads, not '${options.records}'`);
  }
  const { request, config } = await syncRequestFrom(options);
  const { records: _records, priority: _priority, ...sync } = request;
  await withClient(async (client) => {
    const handle = await startReconcile(
      client,
      { ...sync, repair: options.repair === true },
      { workflowId: options.id },
    );
    if (!options.json) {
      process.stderr.write(
        `reconcile ${handle.workflowId}\n${webUiLink(handle.workflowId, process.env, client.options.namespace)}\n`,
      );
    }
    const result = await handle.result();
    process.stdout.write(options.json ? `${JSON.stringify(result)}\n` : reconcileSummary(result));
  }, config);
}

export function reconcileSummary(result: ReconcileResult): string {
  const lines = [
    `${result.checked} of ${result.totalRows} source rows checked in ${result.seconds.toFixed(1)} s: ` +
      `${result.missing} missing at the vendor, ${result.differing} differing, ${result.extra} at the vendor only`,
  ];
  if (result.repaired > 0) lines.push(`${result.repaired} repaired`);
  lines.push(`drift: ${result.driftFile}`);
  if (typeof result.rejects === 'string') lines.push(`rejects of the repair: ${result.rejects}`);
  return `${lines.join('\n')}\n`;
}
