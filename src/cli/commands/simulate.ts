import type { Command } from 'commander';
import { planNames } from '../../core/plans.js';
import type { RunningSimulator } from '../../simulation/simulator.js';
import { VENDORS, type VendorRegistry } from '../../vendors/registry.js';
import type { Vendor } from '../../vendors/types.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerSimulate(program: Command, registry: VendorRegistry = VENDORS): void {
  const simulate = program
    .command('simulate')
    .description(
      'run a vendor simulator: the documented API with its rate limits enforced strictly, faults on request, and an admin API (report, leads, faults, reset) to see what landed',
    );
  for (const vendor of registry.vendors) if (vendor.simulator) registerVendor(simulate, vendor, vendor.simulator);
}

/** `simulate <vendor>`: the flags every simulator takes, then the vendor's own; the simulator loads when it runs. */
function registerVendor(simulate: Command, vendor: Vendor, { command, load }: NonNullable<Vendor['simulator']>): void {
  const sub = simulate
    .command(vendor.name)
    .option('--plan <plan>', `plan to enforce: ${planNames(vendor.plans).join(', ')}, or custom`, command.defaultPlan)
    .option('--port <n>', 'port to listen on (0: any free port)', String(command.defaultPort))
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--error-rate <share>', "share of requests answered 500 in the vendor's error envelope, nothing written")
    .option('--bare-error-rate <share>', 'share of requests answered a bare 500 (no envelope, as a proxy would)')
    .option('--drop-rate <share>', 'share of connections dropped before anything is written')
    .option('--lost-response-rate <share>', 'share of writes performed, then the connection dropped without an answer')
    .option('--slow-ms <ms>', 'delay slow answers by this much')
    .option('--slow-rate <share>', 'share of answers delayed by --slow-ms (default: all)')
    .option('--seed <n>', 'seed for which requests faults strike, to replay a run')
    .description(command.description);
  for (const flag of command.flags) {
    if (flag.repeatable) sub.option(flag.flags, flag.description, collect);
    else sub.option(flag.flags, flag.description, flag.defaultValue);
  }
  sub.action(async (flags: Record<string, unknown>) => run(vendor.name, await (await load()).start(flags)));
}

async function run(vendor: string, simulator: RunningSimulator): Promise<void> {
  process.stdout.write(
    `${vendor} simulator listening\n  base URL:  ${simulator.baseUrl}\n  admin URL: ${simulator.adminUrl} (GET report, leads, activities; POST faults, reset)\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const { totals, leads } = simulator.report({ requests: false });
  await simulator.stop();
  process.stdout.write(
    `stopped: ${totals.requests} requests, ${totals.rateLimited} rate-limited, ${totals.faults} faults, ${leads.count} leads stored\n`,
  );
}
