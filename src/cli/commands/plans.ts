import type { Command } from 'commander';
import { rowsPerSecond, syncAllowances } from '../../core/allowance.js';
import type { Plan } from '../../core/plans.js';
import { VENDORS, type VendorRegistry } from '../../vendors/registry.js';
import { formatTable } from '../table.js';

export function registerPlans(program: Command, registry: VendorRegistry = VENDORS): void {
  program
    .command('plans')
    .description(
      "print every vendor plan leadsync knows: each lane's windows, rows per call, and the rows per second it allows",
    )
    .option('--json', 'print the plans as JSON')
    .action((options: { json?: boolean }) => {
      const plans = registry.plans();
      process.stdout.write(options.json ? `${JSON.stringify(plans, null, 2)}\n` : `${plansTable(plans)}\n`);
    });
}

export function plansTable(plans: Plan[]): string {
  const rows = plans.flatMap((plan) =>
    syncAllowances(plan).map((allowance) => {
      const lane = plan.lanes[allowance.lane]!;
      return [
        plan.vendor,
        plan.name,
        allowance.lane,
        lane.windows.map((w) => `${w.limit}/${w.seconds}s`).join(' + '),
        String(lane.rowsPerCall),
        lane.alsoSpends.length ? lane.alsoSpends.join(',') : '-',
        allowance.callsPerSecond.toFixed(3),
        rowsPerSecond(plan.lanes).toFixed(1),
      ];
    }),
  );
  return formatTable(['vendor', 'plan', 'lane', 'windows', 'rows/call', 'also spends', 'calls/s', 'plan rows/s'], rows);
}
