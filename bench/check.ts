import { formatTable } from '../src/cli/table.js';
import type { PlanRun } from './leadsquared.js';
import { bindingWindowName, smartLeadScenarios, type SmartLeadRun, type SmartLeadScenario } from './smartlead.js';

/**
 * What `npm run bench -- --check` holds the code to, on an idle machine: the pacing reaches at least this share of
 * the plan's maximum, as the vendor's own record of requests shows it...
 */
export const MIN_SHARE_OF_PLAN = 0.9;
/** ...and the vendor refused at most this many calls (a lone stall of the worker past the margin draws one). */
export const MAX_429S = 2;

/** LeadSquared Enterprise, on rows it takes 30 s to push at the plan's ceiling: 6 of its 5-second windows. */
export const CHECKED_LEADSQUARED = { plan: 'enterprise', seconds: 30 } as const;

/**
 * SmartLead Standard per minute. A sync spends the first minute's 60 calls in a burst of 6.5 s (10 a second), so
 * "30 s of rows" would measure the burst, not the minute: the per-minute rate only shows once the window has reopened.
 * The check runs the bench's quick per-minute row instead (rows for 2.2 minutes at the ceiling: three full minutes of
 * calls, the target check's call moving the last upload into a fourth), and measures the mean over the sliding
 * minutes inside the run, as the bench's table does.
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

/** A rate against its plan's maximum: passes at `MIN_SHARE_OF_PLAN` of it or more. */
export function rateCheck(figure: string, measured: number, maximum: number, unit: string, digits: number): Check {
  const share = measured / maximum;
  return {
    figure,
    measured: `${measured.toFixed(digits)} ${unit} (${(100 * share).toFixed(1)}%)`,
    threshold: `>= ${(MIN_SHARE_OF_PLAN * maximum).toFixed(digits)} (${100 * MIN_SHARE_OF_PLAN}% of ${maximum.toFixed(digits)})`,
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

export function leadSquaredChecks(run: PlanRun): Check[] {
  return [
    rateCheck(
      `LeadSquared ${run.plan}: rows stored per second (mean over sliding 5 s windows)`,
      run.landedRowsPerSecond,
      run.maxRowsPerSecond,
      'rows/s',
      2,
    ),
    refusalCheck(`LeadSquared ${run.plan}: 429s`, run.rateLimited, run.requests),
  ];
}

export function smartLeadChecks(run: SmartLeadRun): Check[] {
  const { plan } = run.scenario;
  return [
    rateCheck(
      `SmartLead ${plan}: calls admitted per minute (mean over sliding minutes)`,
      run.mean,
      run.leftToUs,
      'calls/min',
      1,
    ),
    refusalCheck(`SmartLead ${plan}: 429s`, run.rateLimited, run.requests),
  ];
}

export function checkTable(checks: Check[]): string {
  return formatTable(
    ['figure', 'measured', 'threshold', 'result'],
    checks.map((c) => [c.figure, c.measured, c.threshold, c.pass ? 'pass' : 'FAIL']),
  );
}
