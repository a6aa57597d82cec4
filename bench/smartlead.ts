import { randomBytes } from 'node:crypto';
import { earliestSlot, emptyLedger, pacedWindows, recordSlot } from '../src/core/governor/ledger.js';
import { type Window } from '../src/core/plans.js';
import { formatTable } from '../src/cli/table.js';
import { spentQuota, type RequestRecord } from '../src/simulation/request-log.js';
import { startSmartLeadSimulator } from '../src/vendors/smartlead/simulator/server.js';
import { writeLeadsCsv, type BenchTemporal } from './harness.js';
import { actionsPerThousandRows, type ActionCounts } from './temporal-actions.js';
import { shareOfWindow } from './windows.js';
import { smartLead } from '../src/vendors/smartlead/index.js';
import { SMARTLEAD_PLANS } from '../src/vendors/smartlead/plans.js';

/**
 * The margin a SmartLead account has by default: 400-row uploads granted the same slot land one body's handling apart
 * (up to 433 ms after their slot at a load average of 12), and with 150 ms Pro per minute drew 429s. On a time-scaled
 * run it is a quarter percent of the scaled hour: lateness is real time and does not shrink.
 */
const MARGIN_MS = smartLead.defaultMarginMs;

/** One SmartLead scenario: a plan, how fast the simulator runs, how much of the key another client spends. */
export interface SmartLeadScenario {
  name: string;
  plan: 'standard' | 'pro';
  /** Simulated seconds per real second; the account's windows shrink with the simulator's. */
  timeScale: number;
  /** The window whose allowance the scenario measures, in simulated seconds (60 or 3600). */
  bindingSeconds: number;
  /** How long to keep the account busy, in simulated seconds. */
  seconds: number;
  rowsPerCall: number;
  sharedShare: number;
}

export interface SmartLeadRun {
  scenario: SmartLeadScenario;
  rows: number;
  realSeconds: number;
  requests: number;
  rateLimited: number;
  /** The binding window's limit, and what the other client's share leaves of it. */
  allowance: number;
  leftToUs: number;
  /** Our admitted requests per binding window: mean over sliding windows inside the run, and the most in any. */
  mean: number;
  peak: number;
  /** The share of what the binding window leaves to us that the run reached (`shareOfWindow`). */
  share: number | undefined;
  rowsPerSecond: number;
  /** Temporal actions the run spent, by type (undefined on a cluster without a metrics endpoint). */
  actions: ActionCounts | undefined;
  otherClient?: { spent: number; refused: number };
}

/**
 * Standard and Pro at the binding window of a short sync (the minute, in real time) and of a long one (the hour, in
 * a time-scaled simulator: a simulated hour in two minutes, four for Pro, whose 3,000 calls an hour at 30x would ask
 * 25 calls a second of one machine's Temporal dev server), and the shared-key scenario with 30% of the key spent by
 * another client. `quick` shortens each run to just over two binding windows.
 */
export function smartLeadScenarios(quick: boolean): SmartLeadScenario[] {
  const minutes = quick ? 2.2 : 3.2;
  const hours = quick ? 1.15 : 1.3;
  return [
    {
      name: 'per minute',
      plan: 'standard',
      timeScale: 1,
      bindingSeconds: 60,
      seconds: minutes * 60,
      rowsPerCall: 400,
      sharedShare: 0,
    },
    {
      name: 'per minute',
      plan: 'pro',
      timeScale: 1,
      bindingSeconds: 60,
      seconds: minutes * 60,
      rowsPerCall: 400,
      sharedShare: 0,
    },
    {
      name: 'per hour',
      plan: 'standard',
      timeScale: 30,
      bindingSeconds: 3600,
      seconds: hours * 3600,
      rowsPerCall: 10,
      sharedShare: 0,
    },
    {
      name: 'per hour',
      plan: 'pro',
      timeScale: 15,
      bindingSeconds: 3600,
      seconds: hours * 3600,
      rowsPerCall: 10,
      sharedShare: 0,
    },
    {
      name: 'shared key 30%',
      plan: 'standard',
      timeScale: 30,
      bindingSeconds: 3600,
      seconds: hours * 3600,
      rowsPerCall: 10,
      sharedShare: 0.3,
    },
  ];
}

export async function benchSmartLead(temporal: BenchTemporal, scenarios: SmartLeadScenario[]): Promise<SmartLeadRun[]> {
  const runs: SmartLeadRun[] = [];
  for (const scenario of scenarios) {
    runs.push(await benchScenario(temporal, scenario));
    process.stderr.write(`${smartLeadTable(runs.slice(-1))}\n`);
  }
  return runs;
}

async function benchScenario(temporal: BenchTemporal, scenario: SmartLeadScenario): Promise<SmartLeadRun> {
  const planWindows = SMARTLEAD_PLANS[scenario.plan]!.lanes.general!.windows;
  const windows = planWindows.map((w) => ({ ...w, seconds: w.seconds / scenario.timeScale }));
  const left = (w: Window) => Math.floor(w.limit * (1 - scenario.sharedShare));
  // Enough rows to keep the account at its ceiling for the whole run, and not many more.
  const calls = callsWithin(
    windows.map((w) => ({ ...w, limit: left(w) })),
    (scenario.seconds / scenario.timeScale) * 1000,
    MARGIN_MS,
  );
  const rows = calls * scenario.rowsPerCall;
  const name = `bench-sl-${scenario.plan}-${randomBytes(3).toString('hex')}`;
  const apiKey = randomBytes(12).toString('hex');
  const simulator = await startSmartLeadSimulator({
    plan: scenario.plan,
    apiKey,
    timeScale: scenario.timeScale,
    sharedShare: scenario.sharedShare,
    campaigns: [{ name }],
  });
  try {
    const file = await writeLeadsCsv(rows, name);
    const variable = `${name.replace(/-/g, '_').toUpperCase()}_KEY`;
    const scaled = scenario.timeScale !== 1;
    const { value: result, actions } = await temporal.withActions(() =>
      temporal.runSync(
        {
          name,
          settings: {
            vendor: 'smartlead',
            plan: scaled ? 'custom' : scenario.plan,
            baseUrl: simulator.baseUrl,
            credentials: { apiKeyEnv: variable },
            lanes: { general: { ...(scaled ? { windows } : {}), rowsPerCall: scenario.rowsPerCall } },
            pacing: { marginMs: MARGIN_MS },
          },
        },
        { [variable]: apiKey },
        {
          source: { kind: 'csv', path: file },
          mapping: { email: 'EmailAddress', first_name: 'FirstName', last_name: 'LastName' },
          target: { campaignId: simulator.campaigns()[0]!.id },
        },
      ),
    );
    if (result.accepted !== rows) throw new Error(`${scenario.plan}: ${result.accepted} of ${rows} rows accepted`);
    const report = simulator.report();
    const binding = planWindows.find((w) => w.seconds === scenario.bindingSeconds)!;
    const bindingSeconds = binding.seconds / scenario.timeScale;
    const usage = slidingUsage(report.requests, bindingSeconds * 1000);
    return {
      scenario,
      rows,
      realSeconds: result.seconds,
      requests: report.totals.requests,
      rateLimited: report.totals.rateLimited,
      allowance: binding.limit,
      leftToUs: left(binding),
      ...usage,
      share: shareOfWindow(report.requests, { limit: left(binding), seconds: bindingSeconds })?.share,
      rowsPerSecond: rows / result.seconds,
      actions,
      ...(scenario.sharedShare > 0 && report.sharedKey ? { otherClient: report.sharedKey } : {}),
    };
  } finally {
    await simulator.stop();
  }
}

/** The most calls a ledger with these windows grants from an idle start within `ms`: the run's ceiling. */
function callsWithin(windows: Window[], ms: number, marginMs: number): number {
  const lane = { ledger: emptyLedger(), windows: pacedWindows(windows, marginMs) };
  let calls = 0;
  for (let at = earliestSlot([lane], 0); at < ms; at = earliestSlot([lane], at)) {
    recordSlot([lane], at, at);
    calls++;
  }
  return calls;
}

/**
 * Our admitted requests in sliding windows of `spanMs` that lie inside the run (from the first request to the last),
 * sampled at twenty starts per window: the mean is the sustained rate, the peak what a vendor would have counted at
 * worst.
 */
function slidingUsage(records: readonly RequestRecord[], spanMs: number): { mean: number; peak: number } {
  const times = records.filter(spentQuota).map((r) => r.at);
  const first = times[0]!;
  const last = times.at(-1)!;
  const countFrom = (start: number) => times.filter((t) => t >= start && t < start + spanMs).length;
  const counts: number[] = [];
  for (let start = first; start + spanMs <= last; start += spanMs / 20) counts.push(countFrom(start));
  return {
    mean: counts.length > 0 ? counts.reduce((a, b) => a + b, 0) / counts.length : 0,
    peak: Math.max(...times.map(countFrom)),
  };
}

/** The window a scenario measures, as the table and `--smartlead-windows` name it. */
export function bindingWindowName(scenario: SmartLeadScenario): 'minute' | 'hour' {
  return scenario.bindingSeconds === 3600 ? 'hour' : 'minute';
}

export function smartLeadTable(runs: SmartLeadRun[]): string {
  return formatTable(
    [
      'plan',
      'scenario',
      'time',
      'window allowance (left to us)',
      'sustained mean (peak)',
      'of allowance left',
      '429s / requests',
      'rows/s',
      'other client spent / refused',
      'Temporal actions per 1,000 rows',
    ],
    runs.map((run) => {
      const { scenario } = run;
      const window = bindingWindowName(scenario);
      return [
        scenario.plan,
        scenario.name,
        scenario.timeScale === 1
          ? `${run.realSeconds.toFixed(0)} s real time`
          : `${((run.realSeconds * scenario.timeScale) / 3600).toFixed(2)} h simulated at ${scenario.timeScale}x (${run.realSeconds.toFixed(0)} s)`,
        `${run.allowance}/${window}${run.leftToUs === run.allowance ? '' : ` (${run.leftToUs})`}`,
        `${run.mean.toFixed(1)} (${run.peak})`,
        `${((100 * run.mean) / run.leftToUs).toFixed(0)}%`,
        `${run.rateLimited} / ${run.requests}`,
        scenario.timeScale === 1
          ? run.rowsPerSecond.toFixed(0)
          : `${run.rowsPerSecond.toFixed(0)} (${scenario.rowsPerCall}/call)`,
        run.otherClient ? `${run.otherClient.spent} / ${run.otherClient.refused}` : '-',
        actionsPerThousandRows(run.actions, run.rows),
      ];
    }),
  );
}
