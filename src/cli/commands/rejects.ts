import type { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { recurrenceScopeOf, rejectingRun, rejectingRuns, retryRejects, type RejectingRun } from '../../api/rejects.js';
import type { LoadedConfig } from '../../config/accounts.js';
import { ConfigError } from '../../core/errors.js';
import { readRejectsReport } from '../../rejects/files.js';
import { shownRejects, type ShownReject } from '../../rejects/runs-failed.js';
import { postgresConnectionResolver } from '../../sources/postgres-connection.js';
import { configPath, loadCliConfig } from '../config-path.js';
import { describeRejectsTable, followProgress, summary } from '../follow.js';
import { describeRetrySet } from '../retry-set.js';
import { formatTable } from '../table.js';
import { webUiLink, withClient } from '../temporal-connection.js';

/** `rejects list|show|retry`: the rows finished syncs rejected, and a sync of only those rows again. */
export function registerRejects(program: Command): void {
  const rejects = program.command('rejects').description('the rows finished syncs rejected, and sending them again');

  rejects
    .command('list <id>')
    .description(
      "a sync's (or a schedule's) finished runs with rejected rows: run id, time, rows, where the report is, and the " +
        'retry set the run left when it converged',
    )
    .option('--json', 'print JSON')
    .action((id: string, options: { json?: boolean }) =>
      withClient(async (client) => {
        const runs = await rejectingRuns(client, id);
        if (options.json) {
          process.stdout.write(`${JSON.stringify(runs.map(shown))}\n`);
          return;
        }
        if (runs.length === 0) {
          process.stdout.write(`${id}: no finished run rejected a row\n`);
          return;
        }
        const rows = runs.map((run) => [
          run.syncId,
          run.runId,
          run.finishedAt.toISOString(),
          String(run.rejected + run.unattributed),
          where(run),
          describeRetrySet(run.retrySet),
        ]);
        process.stdout.write(`${formatTable(['sync', 'run', 'finished', 'rejected', 'report', 'retry set'], rows)}\n`);
      }),
    );

  rejects
    .command('show <id>')
    .description(
      "a run's rejected rows: row, field, the source key, how many runs the row has failed, the reason (the vendor's " +
        "words when theirs); a sync's newest run, or a schedule's newest completed run",
    )
    .option('--run <runId>', 'the run, as rejects list prints it (default: the newest)')
    .option('--all', 'every run rejects list lists, newest first')
    .option(
      '--config <path>',
      'config file, for a rejects table or the row store (default: LEADSYNC_CONFIG, else ./leadsync.yaml)',
    )
    .option('--json', 'print one JSON object per line')
    .action((id: string, options: { run?: string; all?: boolean; config?: string; json?: boolean }) =>
      withClient(async (client) => {
        if (options.all && options.run !== undefined) throw new ConfigError('--all and --run: give one or the other');
        const runs = options.all ? await rejectingRuns(client, id) : [await rejectingRun(client, id, options.run)];
        if (runs.length === 0 && !options.json) process.stdout.write(`${id}: no finished run rejected a row\n`);
        const out = (line: string) => process.stdout.write(line) || new Promise((r) => process.stdout.once('drain', r));
        for (const run of runs) {
          if (!options.json) await out(`sync ${run.syncId}, run ${run.runId}: ${where(run)}\n`);
          // With --all, each line names its run: the lines of several runs are told apart.
          const ofRun = options.all ? { syncId: run.syncId, runId: run.runId } : {};
          for await (const { row, field, reason, key, runsFailed } of await readRejects(client, run, options.config)) {
            const reject = { ...ofRun, row, field, reason, key, runsFailed };
            await out(options.json ? `${JSON.stringify(reject)}\n` : `${rejectLine(reject)}\n`);
          }
        }
      }),
    );

  rejects
    .command('retry <syncId>')
    .description("sync a run's rejected rows again, only those, through the same account, checks and rejects")
    .option('--run <runId>', 'the run, as rejects list prints it (default: the newest)')
    .option('--id <workflowId>', "the new sync's workflow id (default: <syncId>-retry-<time>)")
    .option('--json', 'print the final counts as JSON')
    .option('--detach', 'print the workflow id and Web UI link, and return without waiting')
    .action((syncId: string, options: { run?: string; id?: string; json?: boolean; detach?: boolean }) =>
      withClient(async (client) => {
        const run = await rejectingRun(client, syncId, options.run);
        const handle = await retryRejects(client, run, options.id);
        const link = webUiLink(handle.workflowId, process.env, client.options.namespace);
        if (options.detach) {
          const started = { workflowId: handle.workflowId, webUi: link };
          process.stdout.write(options.json ? `${JSON.stringify(started)}\n` : `${handle.workflowId}\n${link}\n`);
          return;
        }
        if (!options.json)
          process.stderr.write(`retry of sync ${run.syncId}, run ${run.runId}: ${handle.workflowId}\n${link}\n`);
        const result = await followProgress(handle, !options.json);
        process.stdout.write(options.json ? `${JSON.stringify(result)}\n` : summary(result));
      }),
    );
}

/** A run as `rejects list --json` prints it. */
function shown({ syncId, runId, finishedAt, cancelled, rejected, unattributed, report, retrySet }: RejectingRun) {
  return {
    syncId,
    runId,
    finishedAt: finishedAt.toISOString(),
    cancelled,
    rejected,
    unattributed,
    report,
    ...(retrySet ? { retrySet } : {}),
  };
}

function where(run: RejectingRun): string {
  return 'file' in run.report ? run.report.file : describeRejectsTable(run.report.table);
}

function rejectLine(reject: ShownReject): string {
  const row = reject.row === undefined ? 'rows not named' : `row ${reject.row}`;
  const about = [
    ...(reject.key !== undefined ? [`key ${reject.key}`] : []),
    ...(reject.runsFailed !== undefined
      ? [`failed in ${reject.runsFailed} run${reject.runsFailed === 1 ? '' : 's'}`]
      : []),
  ];
  return `${row}${reject.field ? ` ${reject.field}` : ''}${about.length > 0 ? ` (${about.join(', ')})` : ''}: ${reject.reason}`;
}

/**
 * The run's rejects, a page at a time: its CSV report as this machine sees the path (the workers' disk), or its rows
 * of the table, on the connection the config names; for a run that converged, with its rows' runs failed from the row
 * store the config names.
 */
async function readRejects(
  client: Client,
  run: RejectingRun,
  config: string | undefined,
): Promise<AsyncIterable<ShownReject>> {
  const scope = await recurrenceScopeOf(client, run);
  // A CSV report of a run whose rows do not recur is read without a config.
  if ('file' in run.report && scope === undefined) return readRejectsReport(run.report.file);
  const loaded: LoadedConfig = await loadCliConfig(configPath(config));
  if ('table' in run.report && !Object.hasOwn(loaded.postgresConnections, run.report.table.connection)) {
    throw new ConfigError(
      `the rejects of sync ${run.syncId} are on connection '${run.report.table.connection}', which ${loaded.path} does not name`,
    );
  }
  const recurring = scope !== undefined && loaded.convergence ? { store: loaded.convergence, scope } : undefined;
  if (scope !== undefined && !recurring) {
    process.stderr.write(`${loaded.path} names no row store (convergence): runs failed are not shown\n`);
  }
  return shownRejects(run.report, postgresConnectionResolver(loaded.postgresConnections), recurring);
}
