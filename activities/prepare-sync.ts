import { Context, activityInfo } from '@temporalio/activity';
import { UnknownAccountError, unknownAccount } from '../src/config/accounts.js';
import { pacedAllowances, syncAllowances, type LaneAllowance } from '../src/core/allowance.js';
import { ConfigError, formatZodIssues } from '../src/core/errors.js';
import { checkMapping, identityMapping, type Mapping } from '../src/core/mapping.js';
import { recordCheck } from './chunk-rows.js';
import type { SyncPlan, SyncRequest } from '../src/core/contract.js';
import type { LaneName } from '../src/core/plans.js';
import type { Vendor } from '../src/vendors/types.js';
import type { ActivityContext } from './context.js';
import { toActivityFailure } from './failures.js';
import { withHeartbeats } from './heartbeat.js';
import { laneRoute } from './lane-route.js';

/**
 * Everything that can be wrong before the first row is sent, checked once: the account, its credentials (one cheap
 * vendor call), the target, the source, the mapping and where rejects go. Each failure names what to fix and is not
 * retried.
 */
export async function prepareSync(context: ActivityContext, request: SyncRequest): Promise<SyncPlan> {
  try {
    return await withHeartbeats(async (cancelled) => {
      await waitForAccount(context, request.account, cancelled);
      const account = context.account(request.account);
      const { vendor, client } = context.connect(request.account);
      const target = vendor.targetSchema.safeParse(request.target);
      if (!target.success) {
        throw new ConfigError(`a sync to ${vendor.name} needs a target:\n${formatZodIssues(target.error)}`);
      }
      // A file is pinned before it is first read, and must still be that file once counted: see withSource.
      const pin = await context.withSource(request.source, async (source) => source.pin?.());
      const totalRows = await context.withSource(
        request.source,
        async (source) => {
          const columns = await source.columns();
          const mapping = request.mapping ?? identityMapping(columns);
          checkMapping(mapping, columns, vendor.emailField);
          // An activity field's value decides whether it is valid (the event code): its rows are checked one by one.
          if (request.records === 'leads') checkMappedFields(vendor, mapping);
          else recordCheck(vendor, request.records);
          return source.countRows();
        },
        pin,
      );
      // The rejects sink is made ready now (a directory created and written to, a table created or checked): one that
      // cannot take rejects fails the sync before any vendor call.
      const rejects = context.rejects();
      await context.withRejectsSink((sink) => sink.prepare());
      // Likewise the row store, for a sync that converges with the runs before it: its retry set is sent first.
      const scope = context.recurrenceScope(request);
      const retryRows =
        scope === undefined
          ? undefined
          : await context.withRowStore(async (store) => {
              await store.prepare();
              return store.retryCount(scope);
            });
      // Prepare runs once per sync, in its first run: that run's id keeps the sync's rejects apart from those of any
      // other sync that uses the same workflow id, through every continue-as-new.
      const runId = activityInfo().workflowExecution?.runId;
      // The check is a vendor call like any other: it takes a slot, so it cannot push a busy account over a window,
      // at the sync's priority, so a high sync's check does not wait behind the account's other syncs.
      await context.governor.paced(account, 'general', 1, () => client.verify(target.data), {
        priority: request.priority,
      });
      const paced = pacedAllowances(account.effectivePlan, account.pacing.marginMs, request.records);
      const lanes = syncAllowances(account.effectivePlan, request.records).map((allowance) => ({
        lane: allowance.lane,
        ...laneRoute(context.deps, account, allowance.lane),
        rowsPerCall: allowance.rowsPerCall,
        callsPerSecond: allowance.callsPerSecond,
        ...pacedRate(paced, allowance.lane),
      }));
      return {
        vendor: account.vendor,
        planName: account.effectivePlan.name,
        lanes,
        totalRows: totalRows + (retryRows ?? 0),
        rowsPerSecond: lanes.reduce((sum, lane) => sum + lane.callsPerSecond * lane.rowsPerCall, 0),
        ...rejects,
        ...(pin ? { pin } : {}),
        ...(runId ? { runId } : {}),
        ...(context.deps.config.alerts ? { alerts: context.deps.config.alerts.triggers } : {}),
        ...(retryRows !== undefined ? { convergence: { retryRows } } : {}),
      };
    });
  } catch (err) {
    throw toActivityFailure(err, context.redactor);
  }
}

/**
 * How long one attempt of prepare waits in place for a reload to add its account. Eight attempts (the control
 * activities' retry policy, workflows/sync.ts) make a sync wait about 15 minutes for its account before it fails.
 */
const ACCOUNT_WAIT_MS = 120_000;

/**
 * A sync for an account this worker's config does not name waits for a reload that adds it, and says so: a warning
 * in the worker's log on every attempt, and a retryable failure (AccountUnknown) that the sync's pending activity
 * shows. The first attempt fails at once, so the reason shows as soon as the sync starts; the later ones wait in place
 * and go on within moments of the reload. Another worker that has the account may take a retry meanwhile.
 */
async function waitForAccount(context: ActivityContext, name: string, cancelled: AbortSignal): Promise<void> {
  if (Object.hasOwn(context.deps.config.accounts, name)) return;
  const { attempt } = activityInfo();
  const unknown = unknownAccount(context.deps.config, name);
  Context.current().log.warn(`the sync waits for account '${name}': no such account in the config yet`, {
    account: name,
    config: context.deps.config.path,
    attempt,
  });
  if (attempt > 1 && (await context.accountAdded(name, ACCOUNT_WAIT_MS, cancelled))) return;
  throw new UnknownAccountError(
    `${unknown}: the sync waits for a config reload that adds it (SIGHUP, or a change of the file), up to about 15 minutes`,
  );
}

/** A field the vendor does not have would reject every row of the file: say it once, before the first row is sent. */
function checkMappedFields(vendor: Vendor, mapping: Mapping): void {
  const probe = Object.fromEntries(Object.keys(mapping).map((field) => [field, '']));
  const problems = vendor
    .checkLead({ ...probe, [vendor.emailField]: 'probe@example.com' })
    .filter((problem) => problem.field !== vendor.emailField);
  if (problems.length > 0) {
    throw new ConfigError(`mapping: ${problems.map((p) => `${p.field}: ${p.reason}`).join('; ')}`);
  }
}

/** A lane's paced rate, where the margin leaves it any calls. */
function pacedRate(paced: readonly LaneAllowance[], lane: LaneName): { pacedCallsPerSecond?: number } {
  const rate = paced.find((allowance) => allowance.lane === lane)?.callsPerSecond;
  return rate !== undefined ? { pacedCallsPerSecond: rate } : {};
}
