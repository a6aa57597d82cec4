import type { Client } from '@temporalio/client';
import type { SyncProgress } from '../core/contract.js';
import { expectedSeconds, lastCallSeconds, type SyncLoad } from '../core/expected-finish.js';
import { LeadsyncAccount } from '../core/search-attributes.js';
import { syncHandle, syncProgress, type SyncHandle } from './syncs.js';

/** A running sync's progress, by its workflow id. */
export interface SyncOnAccount {
  id: string;
  progress: SyncProgress;
}

/**
 * A sync's progress with its expected finish reckoned over its whole account: the other syncs running on it (found by
 * their `LeadsyncAccount`, each asked for its progress), by priority, share and rows left. A sync knows only itself,
 * so its own estimate takes a sync ahead of it as running forever at the rate they share now.
 */
export async function accountProgress(client: Client, handle: SyncHandle, now = Date.now): Promise<SyncProgress> {
  const progress = await syncProgress(handle);
  if (progress.expectedFinishAt === undefined) return progress;
  const others = await runningSyncs(client, progress.account, handle.workflowId);
  return withExpectedFinish({ id: handle.workflowId, progress }, others, now());
}

/**
 * `sync`'s progress with the finish the account's reckoning gives, from when its rows left were counted (else `now`);
 * as it was if nothing carries it.
 */
export function withExpectedFinish(sync: SyncOnAccount, others: readonly SyncOnAccount[], now: number): SyncProgress {
  const { progress } = sync;
  const lanes = progress.lanes ?? [];
  const seconds = expectedSeconds(loadOf(sync), lanes, others.filter(isRunning).map(loadOf));
  if (seconds === undefined) return progress;
  const from = progress.asOf ?? now;
  return { ...progress, expectedFinishAt: from + (seconds + lastCallSeconds(lanes, progress.share)) * 1000 };
}

/** The account's other running syncs that answer for their progress: one that ends meanwhile is not running. */
async function runningSyncs(client: Client, account: string, self: string): Promise<SyncOnAccount[]> {
  const query =
    `WorkflowType = 'leadSync' AND ExecutionStatus = 'Running' AND ` +
    `${LeadsyncAccount.name} = '${account.replaceAll("'", "''")}'`;
  const ids: string[] = [];
  for await (const execution of client.workflow.list({ query })) {
    if (execution.workflowId !== self) ids.push(execution.workflowId);
  }
  const read = await Promise.all(
    ids.map((id) =>
      syncProgress(syncHandle(client, id)).then(
        (progress) => ({ id, progress }),
        () => undefined,
      ),
    ),
  );
  return read.filter((sync) => sync !== undefined);
}

/** A paused sync spends nothing, one still preparing has no rows to count yet. */
function isRunning({ progress }: SyncOnAccount): boolean {
  return progress.state === 'running' && progress.totalRows !== undefined;
}

function loadOf({ id, progress }: SyncOnAccount): SyncLoad {
  return {
    id,
    rowsLeft: Math.max(0, (progress.totalRows ?? 0) - progress.counts.read),
    share: progress.share,
    priority: progress.priority,
    recentRowsPerSecond: progress.recentRowsPerSecond,
  };
}
