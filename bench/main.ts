import { parseArgs } from 'node:util';
import {
  CHECKED_LEADSQUARED,
  checkTable,
  checkedSmartLeadScenario,
  leadSquaredChecks,
  smartLeadChecks,
  type Check,
} from './check.js';
import { accountsTable, benchAccounts } from './accounts.js';
import { EXPECTED_FINISH_PLAN, benchExpectedFinish, finishTable } from './expected-finish.js';
import { BenchTemporal } from './harness.js';
import { MARGIN_MS, benchLeadSquaredPlans, planTable, steadyStateShare } from './leadsquared.js';
import { benchPriority, priorityTable } from './priority.js';
import { SCALE_PLANS, benchScaleInOwnProcess, scaleTable, type ScaleRun } from './scale.js';
import { benchSmartLead, bindingWindowName, smartLeadScenarios, smartLeadTable } from './smartlead.js';

/** `npm run bench -- --help` prints this. */
const USAGE = `npm run bench -- [options]: rate and timing claims, measured against strict simulators on a real
Temporal dev server.

  --quick                  shorter syncs (still 6 windows each)
  --seconds 300            LeadSquared syncs of this many seconds of rows at the plan's ceiling (60 by default)
  --plans lite,enterprise  the plans to run (--plans pro: both vendors')
  --vendors smartlead      one vendor's section (leadsquared,smartlead by default; none for only the rows below)
  --smartlead-windows minute
                           only SmartLead's per-minute rows (hour: the time-scaled per-hour and shared-key rows)
  --scale                  the long scale rows, each in a process of its own: --scale-rows (a million by default,
                           from PostgreSQL), --scale-windows 5 (the plan counted in 5-second windows); the worker is
                           \`leadsync worker\` in a process of its own, with Node's --scale-node-options when given
                           (--scale-node-options='--max-old-space-size=128 --max-semi-space-size=4')
  --accounts N             one worker process with N Enterprise accounts on shared queues, --syncing K of them (10)
                           syncing at once for --accounts-seconds (30) at their ceiling
  --expected-finish        the expected finish against the measured one
  --priority               a 50-row high-priority sync behind a backfill of --priority-rows (a million) on
                           LeadSquared Enterprise
  --check                  only the rows CI holds to thresholds (bench/check.ts); exits non-zero when one is missed
  --help                   this text
`;
const { values, tokens } = parseArgs({
  tokens: true,
  options: {
    check: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    plans: { type: 'string' },
    vendors: { type: 'string', default: 'leadsquared,smartlead' },
    'smartlead-windows': { type: 'string', default: 'minute,hour' },
    scale: { type: 'boolean', default: false },
    'scale-rows': { type: 'string', default: '1000000' },
    'scale-windows': { type: 'string', default: SCALE_PLANS.map((plan) => plan.window.seconds).join(',') },
    'scale-node-options': { type: 'string', default: '' },
    accounts: { type: 'string' },
    syncing: { type: 'string', default: '10' },
    'accounts-seconds': { type: 'string', default: '30' },
    'expected-finish': { type: 'boolean', default: false },
    priority: { type: 'boolean', default: false },
    'priority-rows': { type: 'string', default: '1000000' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
// The check runs its own rows and none of the vendors' sections.
const vendors = values.check ? [] : values.vendors.split(',');
const chosen = tokens.filter((t) => t.kind === 'option' && t.name !== 'check').map((t) => `--${t.name}`);
if (values.check && chosen.length > 0) {
  throw new Error(`--check runs a fixed set of rows and takes no other option (given: ${chosen.join(', ')})`);
}

const temporal = await BenchTemporal.start();
process.stdout.write(`${temporal.description}\n`);
try {
  if (values.check) {
    const checks: Check[] = [];
    const [leadSquaredRun] = await benchLeadSquaredPlans(temporal, CHECKED_LEADSQUARED.seconds, [
      CHECKED_LEADSQUARED.plan,
    ]);
    checks.push(...leadSquaredChecks(leadSquaredRun!));
    const [smartLeadRun] = await benchSmartLead(temporal, [checkedSmartLeadScenario()]);
    checks.push(...smartLeadChecks(smartLeadRun!));
    process.stdout.write(
      `\nBench check: rates and 429s from the simulators' own record of every request that reached them\n` +
        `${checkTable(checks)}\n`,
    );
    const failed = checks.filter((c) => !c.pass).length;
    process.stdout.write(failed > 0 ? `${failed} of ${checks.length} checks failed\n` : `all checks passed\n`);
    if (failed > 0) process.exitCode = 1;
  }
  if (vendors.includes('leadsquared')) {
    const seconds = values.seconds ? positiveInteger('--seconds', values.seconds) : values.quick ? 32 : 60;
    const runs = await benchLeadSquaredPlans(temporal, seconds, values.plans?.split(','));
    process.stdout.write(
      `\nLeadSquared plans (strict reading: a bulk call also spends a general request; windows paced with a ` +
        `${MARGIN_MS} ms margin, the default, at most ${(100 * steadyStateShare()).toFixed(1)}% of the plan in steady state)\n`,
    );
    process.stdout.write(`${planTable(runs)}\n`);
  }
  if (vendors.includes('smartlead')) {
    const windows = values['smartlead-windows'].split(',');
    const scenarios = smartLeadScenarios(values.quick).filter(
      (s) => windows.includes(bindingWindowName(s)) && (!values.plans || values.plans.split(',').includes(s.plan)),
    );
    const runs = await benchSmartLead(temporal, scenarios);
    process.stdout.write(
      `\nSmartLead plans (per minute in real time; per hour and shared key in a time-scaled simulator, the account's ` +
        `windows scaled alike)\n`,
    );
    process.stdout.write(`${smartLeadTable(runs)}\n`);
  }
  if (values.scale) {
    const runs: ScaleRun[] = [];
    const windows = values['scale-windows'].split(',').map(Number);
    for (const plan of SCALE_PLANS.filter((p) => windows.includes(p.window.seconds))) {
      const nodeOptions = values['scale-node-options'].split(' ').filter(Boolean);
      runs.push(await benchScaleInOwnProcess(temporal, Number(values['scale-rows']), plan, nodeOptions));
    }
    process.stdout.write(`\nScale: PostgreSQL to LeadSquared, custom plan of 200 requests/s (50-row bulk calls)\n`);
    process.stdout.write(`${scaleTable(runs)}\n`);
  }
  if (values['expected-finish']) {
    const runs = await benchExpectedFinish(temporal);
    process.stdout.write(
      `\nExpected finish: LeadSquared ${EXPECTED_FINISH_PLAN}, as \`leadsync status\` reckons it and as the sync ` +
        `itself does, against the measured finish\n${finishTable(runs)}\n`,
    );
  }
  if (values.priority) {
    const run = await benchPriority(temporal, {
      backfillRows: positiveInteger('--priority-rows', values['priority-rows']),
    });
    process.stdout.write(
      `\nPriority: a 50-row high-priority sync started 20 s into a normal backfill's landing on LeadSquared Enterprise ` +
        `(rates and windows from the simulator's record)\n${priorityTable([run])}\n`,
    );
  }
  if (values.accounts !== undefined) {
    const accounts = positiveInteger('--accounts', values.accounts);
    const syncing = positiveInteger('--syncing', values.syncing);
    if (syncing > accounts) throw new Error(`--syncing ${syncing} is more than --accounts ${accounts}`);
    const run = await benchAccounts(temporal, {
      accounts,
      syncing,
      seconds: positiveInteger('--accounts-seconds', values['accounts-seconds']),
    });
    process.stdout.write(
      `\nAccounts: one worker process, LeadSquared Enterprise accounts on shared task queues, each syncing one on ` +
        `a simulator of its own (shares from the simulators' record)\n${accountsTable([run])}\n`,
    );
  }
} finally {
  await temporal.stop();
}

function positiveInteger(option: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${option} must be a positive integer, got '${value}'`);
  return n;
}
