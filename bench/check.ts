import { formatTable } from '../src/cli/table.js';
import type { PlanRun } from './leadsquared.js';
import { describeActions, totalActions, type ActionCounts } from './temporal-actions.js';
import { bindingWindowName, smartLeadScenarios, type SmartLeadRun, type SmartLeadScenario } from './smartlead.js';

/**
 * What `npm run bench -- --check` holds the code to, on an idle machine: the pacing reaches at least this share of
 * the plan's maximum, as the vendor's own record of requests shows it...
 */
export const MIN_SHARE_OF_PLAN = 0.9;
/** ...and the vendor refused at most this many calls (a lone stall of the worker past the margin draws one). */
export const MAX_429S = 2;

/**
 * ...and the LeadSquared sync cost at most this many Temporal actions per 1,000 rows, by the server's own counter. A
 * 30-second sync pays its start and end (prepare, the first scans, the rejects report, its state's search attributes)
 * over few rows: a long one spends fewer (bench/RESULTS.md). Before chunks of 15 s and one update for every lane, the
 * same run spent about 130; before slots joined one moment a window, 65 to 77 (two updates a window); since, 56.
 */
export const MAX_ACTIONS_PER_THOUSAND_ROWS = 70;

/** LeadSquared Enterprise, on rows it takes 30 s to push at the plan's ceiling: 6 of its 5-second windows. */
export const CHECKED_LEADSQUARED = { plan: 'enterprise', seconds: 30 } as const;

/**
 * SmartLead Standard per minute. A sync spends the first minute's 60 calls in a burst of 6.5 s (10 a second), so
 * "30 s of rows" would measure the burst, not the minute: the per-minute rate only shows once the window has reopened.
 * The check runs the bench's quick per-minute row instead (rows for 2.2 minutes at the ceiling: three full minutes of
 * calls, the target check's call moving the last upload into a fourth), so that 120 calls waited for their minute.
 */
export function checkedSmartLeadScenario(): SmartLeadScenario {
  const scenario = smartLeadScenarios(true).find((s) => s.plan === 'standard' && bindingWindowName(s) === 'minute');
  if (!scenario) throw new Error('the bench has no SmartLead Standard per-minute scenario to check');
  return scenario;
}

export interface Check {
  figure: string;
  measured: string;
  threshold: string;
  pass: boolean;
}

/**
 * A lane's rate, as the share of its window's allowance the run reached (`shareOfWindow`): passes at
 * `MIN_SHARE_OF_PLAN` or more. Undefined (a run that never waited for its window) fails: it measured nothing.
 */
export function rateCheck(figure: string, share: number | undefined, window: { limit: number; per: string }): Check {
  const threshold = `>= ${(MIN_SHARE_OF_PLAN * window.limit).toFixed(1)} (${100 * MIN_SHARE_OF_PLAN}% of ${window.limit})`;
  if (share === undefined) return { figure, measured: 'none: the run never filled a window', threshold, pass: false };
  return {
    figure,
    measured: `${(share * window.limit).toFixed(1)} calls per ${window.per} (${(100 * share).toFixed(1)}%)`,
    threshold,
    pass: share >= MIN_SHARE_OF_PLAN,
  };
}

/** The calls the vendor refused with a 429: passes at `MAX_429S` or fewer. */
export function refusalCheck(figure: string, rateLimited: number, requests: number): Check {
  return {
    figure,
    measured: `${rateLimited} of ${requests} requests`,
    threshold: `<= ${MAX_429S}`,
    pass: rateLimited <= MAX_429S,
  };
}

/**
 * What the run cost Temporal: passes at `MAX_ACTIONS_PER_THOUSAND_ROWS` or fewer. Uncounted (a server without a
 * metrics endpoint) fails: it measured nothing.
 */
export function actionsCheck(figure: string, actions: ActionCounts | undefined, rows: number): Check {
  const threshold = `<= ${MAX_ACTIONS_PER_THOUSAND_ROWS}`;
  if (!actions || rows === 0) return { figure, measured: 'none: the server counted no action', threshold, pass: false };
  const perThousand = (1000 * totalActions(actions)) / rows;
  return {
    figure,
    measured: `${perThousand.toFixed(0)} (${describeActions(actions, 1000 / rows)})`,
    threshold,
    pass: perThousand <= MAX_ACTIONS_PER_THOUSAND_ROWS,
  };
}

export function leadSquaredChecks(run: PlanRun): Check[] {
  return [
    ...run.lanes.map((lane) =>
      // The strict reading: every call, bulk ones included, spends from the general lane.
      rateCheck(`LeadSquared ${run.plan}, ${lane.lane === 'general' ? 'every call' : 'bulk calls'}`, lane.share, {
        limit: lane.allowed,
        per: '5 s',
      }),
    ),
    refusalCheck(`LeadSquared ${run.plan}: 429s`, run.rateLimited, run.requests),
    actionsCheck(`LeadSquared ${run.plan}: Temporal actions per 1,000 rows`, run.actions, run.rows),
  ];
}

export function smartLeadChecks(run: SmartLeadRun): Check[] {
  const { plan } = run.scenario;
  return [
    rateCheck(`SmartLead ${plan}, every call`, run.share, {
      limit: run.leftToUs,
      per: bindingWindowName(run.scenario),
    }),
    refusalCheck(`SmartLead ${plan}: 429s`, run.rateLimited, run.requests),
  ];
}

export function checkTable(checks: Check[]): string {
  return formatTable(
    ['figure', 'measured (calls the vendor admitted, or refused)', 'threshold', 'result'],
    checks.map((c) => [c.figure, c.measured, c.threshold, c.pass ? 'pass' : 'FAIL']),
  );
}
