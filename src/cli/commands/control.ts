import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import { accountProgress } from '../../api/expected-finish.js';
import {
  cancelSync,
  pauseSync,
  resumeSync,
  syncHandle,
  syncProgress,
  throttleSync,
  type SyncHandle,
} from '../../api/syncs.js';
import { ConfigError } from '../../core/errors.js';
import { ShareSchema, type SyncProgress } from '../../core/contract.js';
import { progressLine } from '../progress-bar.js';
import { withClient } from '../temporal-connection.js';

/** `status`, `pause`, `resume`, `throttle` and `cancel`: the same updates and query the `temporal` CLI can send. */
export function registerControl(program: Command): void {
  const command = (name: string, description: string, act: Act) =>
    program
      .command(`${name} <workflowId>`)
      .description(description)
      .option('--json', 'print the progress as JSON')
      .action((id: string, options: { json?: boolean }) => control(id, options, act));

  command(
    'status',
    "print a sync's progress, and when it is expected to finish beside the account's other syncs",
    (handle, client) => accountProgress(client, handle),
  );
  command(
    'pause',
    'stop sending: calls waiting for their slots give them back, and their chunks wait to be resumed',
    pauseSync,
  );
  command('resume', 'start chunks again', resumeSync);
  command('cancel', 'end the sync: chunks in flight finish, the rejects report is written', cancelSync);
  program
    .command('throttle <workflowId> <share>')
    .description('let the sync use only this share (0 < share <= 1) of the plan, from its next chunk')
    .option('--json', 'print the progress as JSON')
    .action((id: string, share: string, options: { json?: boolean }) => {
      const parsed = ShareSchema.safeParse(Number(share));
      if (!parsed.success) throw new ConfigError(`share: ${parsed.error.issues[0]?.message} (got '${share}')`);
      return control(id, options, (handle) => throttleSync(handle, parsed.data));
    });
}

type Act = (handle: SyncHandle, client: Client) => Promise<SyncProgress | void>;

async function control(id: string, options: { json?: boolean }, act: Act): Promise<void> {
  await withClient(async (client) => {
    const handle = syncHandle(client, id);
    const progress = (await act(handle, client)) ?? (await syncProgress(handle));
    process.stdout.write(options.json ? `${JSON.stringify(progress)}\n` : `${id}: ${progressLine(progress)}\n`);
  });
}
