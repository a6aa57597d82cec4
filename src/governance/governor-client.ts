import { setTimeout as sleep } from 'node:timers/promises';
import { WithStartWorkflowOperation, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { Account } from '../config/accounts.js';
import {
  accountGovernor,
  governorWorkflowId,
  reportSignal,
  reserveUpdate,
  type ReserveRequest,
} from '../../workflows/governor.js';
import { laneAllowances } from './allowance.js';
import type { LaneName, Window } from './plans.js';

/**
 * The activity side of the account governor: reserves a slot for each vendor call and waits for it,
 * so calls from any number of worker processes land inside the account's windows.
 */
export class GovernorClient {
  constructor(
    private readonly client: Client,
    /** The task queue the governor workflow runs on: the workflow queue of the workers. */
    private readonly taskQueue: string,
  ) {}

  /**
   * Runs `call` at a slot granted on `lane`. A slot missed by more than half the margin is given up
   * and a new one asked for: the margin only covers calls made close to their slot.
   */
  async paced<T>(
    account: Account,
    lane: LaneName,
    share: number,
    call: () => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    const lateAfterMs = account.pacing.marginMs / 2;
    for (;;) {
      const [slot] = await this.reserve(account, lane, 1, share);
      const wait = slot! - Date.now();
      if (wait > 0) await sleep(wait, undefined, { signal });
      if (Date.now() - slot! <= lateAfterMs) return call();
    }
  }

  async reserve(account: Account, lane: LaneName, calls: number, share = 1): Promise<number[]> {
    const request = reserveRequest(account, lane, calls, share);
    for (let attempt = 1; ; attempt++) {
      try {
        const { slots } = await this.client.workflow.executeUpdateWithStart(reserveUpdate, {
          args: [request],
          startWorkflowOperation: new WithStartWorkflowOperation(accountGovernor, {
            workflowId: governorWorkflowId(account.name),
            taskQueue: this.taskQueue,
            args: [{ account: account.name }],
            workflowIdConflictPolicy: 'USE_EXISTING',
            staticSummary: `Rate governor of ${account.vendor} account ${account.name}`,
          }),
        });
        return slots;
      } catch (err) {
        // A governor that just continued-as-new or ended idle refuses the update; the next attempt reaches its successor.
        if (err instanceof WorkflowUpdateFailedError || attempt >= 10) throw err;
        await sleep(50 * attempt);
      }
    }
  }

  /** Tells the governor the vendor refused for rate, so every caller on the lanes waits, not just this one. */
  async reportRateLimited(account: Account, lane: LaneName, retryAfterMs: number, window?: Window): Promise<void> {
    const lanes = spentLanes(account, lane);
    await this.client.workflow
      .getHandle(governorWorkflowId(account.name))
      .signal(reportSignal, { kind: 'rate-limited', lanes, at: Date.now(), retryAfterMs, window });
  }
}

function spentLanes(account: Account, lane: LaneName): LaneName[] {
  return [lane, ...(account.effectivePlan.lanes[lane]?.alsoSpends ?? [])];
}

/**
 * The ledgers one call spends from. A sync limited to a share of the plan is granted a slot only while each ledger,
 * shared with every other sync on the account, holds fewer calls than that share of each window. A lane that
 * another lane also spends from (LeadSquared's general lane, which bulk calls count against) keeps its own calls to
 * what the other lane leaves: otherwise single calls, being many, would take every general slot and starve the
 * bulk lane, which carries fifty rows a call.
 */
export function reserveRequest(account: Account, lane: LaneName, calls: number, share = 1): ReserveRequest {
  const lanes = account.effectivePlan.lanes;
  const scaled = (windows: Window[]) => windows.map((w) => ({ ...w, limit: Math.max(1, Math.floor(w.limit * share)) }));
  const spends: ReserveRequest['spends'] = spentLanes(account, lane).map((spent) => {
    const plan = lanes[spent];
    if (!plan) throw new Error(`account ${account.name} has no lane '${spent}'`);
    return { ledger: spent, lane: spent, windows: scaled(plan.windows) };
  });
  const othersRate = laneAllowances(lanes)
    .filter((other) => lanes[other.lane]?.alsoSpends.includes(lane))
    .reduce((sum, other) => sum + other.callsPerSecond, 0);
  if (othersRate > 0) {
    const own = lanes[lane]!.windows.map((w) => ({
      ...w,
      limit: Math.max(1, w.limit - Math.ceil(w.seconds * othersRate)),
    }));
    spends.push({ ledger: `${lane}:own`, lane, windows: scaled(own) });
  }
  return { spends, calls, marginMs: account.pacing.marginMs };
}
