import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { startSync, syncProgress, type SyncHandle } from '../../client/api.js';
import { findAccount, loadConfig } from '../../config/accounts.js';
import { ConfigError, formatZodIssues } from '../../config/errors.js';
import { MappingSchema, type Mapping } from '../../sources/mapping.js';
import type { SyncInput, SyncResult } from '../../sync/contract.js';
import { configPath } from '../config-path.js';
import { progressLine } from '../progress-bar.js';
import { webUiLink, withClient } from '../temporal.js';

interface SyncOptions {
  config?: string;
  account: string;
  file: string;
  mapping?: string;
  campaign?: string;
  share?: string;
  id?: string;
  json?: boolean;
  detach?: boolean;
}

export function registerSync(program: Command): void {
  program
    .command('sync')
    .description("push the rows of a file into an account, at its plan's ceiling, as a durable Temporal workflow")
    .requiredOption('--account <name>', 'account of the config file to sync into')
    .requiredOption(
      '--file <path>',
      'CSV file with a header row, or NDJSON (.ndjson, .jsonl): one JSON object per line',
    )
    .option('--config <path>', 'config file (default: $LEADSYNC_CONFIG, else leadsync.yaml)')
    .option('--mapping <path>', 'JSON or YAML file: vendor field -> source column (default: columns named as fields)')
    .option('--campaign <id>', 'SmartLead campaign to add the leads to')
    .option('--share <fraction>', 'use only this share of the plan, 0 < share <= 1', '1')
    .option('--id <workflowId>', 'workflow id (default: leadsync-sync-<account>-<random>)')
    .option('--json', 'print the final counts as JSON')
    .option('--detach', 'print the workflow id and Web UI link, and return without waiting')
    .action((options: SyncOptions) => runSync(options));
}

async function runSync(options: SyncOptions): Promise<void> {
  const input = await syncInput(options);
  await withClient(async (client) => {
    const handle = await startSync(client, input, { workflowId: options.id });
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

/** Checks the account and the file here, before a workflow exists, so a typo fails in a second with its name. */
async function syncInput(options: SyncOptions): Promise<SyncInput> {
  const config = await loadConfig(configPath(options.config));
  const account = findAccount(config, options.account);
  const share = Number(options.share ?? '1');
  if (!(share > 0 && share <= 1))
    throw new ConfigError(`--share: must be above 0 and at most 1, not '${options.share}'`);
  return {
    account: account.name,
    source: { kind: /\.(ndjson|jsonl)$/i.test(options.file) ? 'ndjson' : 'csv', path: resolve(options.file) },
    ...(options.mapping ? { mapping: await readMapping(options.mapping) } : {}),
    target: options.campaign ? { campaignId: options.campaign } : {},
    share,
  };
}

async function readMapping(path: string): Promise<Mapping> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`--mapping: cannot read ${path}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = extname(path) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(
      `--mapping: ${path} is not valid ${extname(path) === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}`,
    );
  }
  const mapping = MappingSchema.safeParse(raw);
  if (!mapping.success)
    throw new ConfigError(`--mapping: invalid mapping in ${path}:\n${formatZodIssues(mapping.error)}`);
  return mapping.data;
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
