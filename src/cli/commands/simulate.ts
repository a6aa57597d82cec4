import type { Command } from 'commander';
import { z } from 'zod';
import { ConfigError, formatZodIssues } from '../../core/errors.js';
import { planNames, type VendorName, type Window } from '../../core/plans.js';
import type { FaultOptions } from '../../simulation/faults.js';
import { startSimulator, type SimulatorOptions } from '../../simulation/registry.js';

/** The keys a simulator accepts, unless flags say otherwise: fake ones, so no real secret is needed to rehearse. */
const SIMULATOR_KEY_DEFAULTS = {
  LEADSYNC_SIM_ACCESS_KEY: 'sim-access-key',
  LEADSYNC_SIM_SECRET_KEY: 'sim-secret-key',
  LEADSYNC_SIM_API_KEY: 'sim-api-key',
} as const;

const Count = z.coerce.number().int();
const Rate = z.coerce.number().min(0).max(1);
/** `25/5`: 25 requests per 5 seconds. */
const WindowFlag = z
  .string()
  .regex(/^\d+\/\d+(\.\d+)?$/, 'a window is <limit>/<seconds>, e.g. 25/5')
  .transform((text): Window => {
    const [limit, seconds] = text.split('/').map(Number) as [number, number];
    return { limit, seconds };
  });

const CommonFlagsSchema = z.object({
  plan: z.string().min(1),
  port: Count.min(0).max(65_535),
  host: z.string().min(1),
  errorRate: Rate.optional(),
  dropRate: Rate.optional(),
  lostResponseRate: Rate.optional(),
  slowMs: Count.min(0).optional(),
  slowRate: Rate.optional(),
  seed: Count.optional(),
});

const LeadSquaredFlagsSchema = CommonFlagsSchema.extend({
  accessKey: z.string().min(1),
  secretKey: z.string().min(1),
  rateLimitStatus: z.enum(['429', '200']).transform(Number),
  bulkSpendsGeneral: z.boolean(),
  general: z.array(WindowFlag).optional(),
  bulk: z.array(WindowFlag).optional(),
});

const SmartLeadFlagsSchema = CommonFlagsSchema.extend({
  apiKey: z.string().min(1),
  timeScale: z.coerce.number().positive(),
  sharedShare: z.coerce.number().min(0).lt(1),
  campaign: z.array(Count.positive()).default([]),
  window: z.array(WindowFlag).optional(),
  addLeadsAnswer: z.enum(['classic', 'classic-counts', 'new']),
});

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerSimulate(program: Command): void {
  const simulate = program
    .command('simulate')
    .description(
      'run a vendor simulator: the documented API with its rate limits enforced strictly, faults on request, and an admin API (report, leads, faults, reset) to see what landed',
    );

  withCommonFlags(simulate.command('leadsquared'), 'pro', 8710)
    .description('simulate LeadSquared API v2 (base URL http://HOST:PORT/v2/)')
    .option('--access-key <key>', 'access key to accept (default: $LEADSYNC_SIM_ACCESS_KEY, else sim-access-key)')
    .option('--secret-key <key>', 'secret key to accept (default: $LEADSYNC_SIM_SECRET_KEY, else sim-secret-key)')
    .option(
      '--rate-limit-status <status>',
      'HTTP status of a rate-limit answer: 429 as documented, or 200 as seen in the wild',
      '429',
    )
    .option('--no-bulk-spends-general', 'let bulk calls spend from the bulk lane only (default: from general too)')
    .option('--general <limit/seconds>', 'with --plan custom: a window of the general lane (repeatable)', collect)
    .option('--bulk <limit/seconds>', 'with --plan custom: a window of the bulk lane (repeatable)', collect)
    .action(async (flags: Record<string, unknown>) => {
      const f = parseFlags(LeadSquaredFlagsSchema, {
        ...flags,
        accessKey: keyOf(flags.accessKey, 'LEADSYNC_SIM_ACCESS_KEY'),
        secretKey: keyOf(flags.secretKey, 'LEADSYNC_SIM_SECRET_KEY'),
      });
      const plan =
        f.plan.toLowerCase() === 'custom'
          ? { general: required(f.general, '--general'), bulk: required(f.bulk, '--bulk') }
          : f.plan;
      await run('leadsquared', {
        plan,
        accessKey: f.accessKey,
        secretKey: f.secretKey,
        port: f.port,
        host: f.host,
        rateLimitStatus: f.rateLimitStatus === 200 ? 200 : 429,
        bulkSpendsGeneral: f.bulkSpendsGeneral,
        faults: faultsOf(f),
      });
    });

  withCommonFlags(simulate.command('smartlead'), 'standard', 8720)
    .description('simulate SmartLead API v1 (base URL http://HOST:PORT/api/v1)')
    .option('--api-key <key>', 'api_key to accept (default: $LEADSYNC_SIM_API_KEY, else sim-api-key)')
    .option('--time-scale <n>', 'simulated seconds per real second (60: an hour of quota per real minute)', '1')
    .option('--shared-share <share>', 'share (0..1) of every window another integration on the same key spends', '0')
    .option('--campaign <id>', 'a campaign to create (repeatable; more via POST <admin>/campaigns)', collect)
    .option('--window <limit/seconds>', 'with --plan custom: a window of the key (repeatable)', collect)
    .option(
      '--add-leads-answer <shape>',
      'answer uploads in the classic shape (lists), classic-counts (counts only) or new',
      'classic',
    )
    .action(async (flags: Record<string, unknown>) => {
      const f = parseFlags(SmartLeadFlagsSchema, { ...flags, apiKey: keyOf(flags.apiKey, 'LEADSYNC_SIM_API_KEY') });
      const plan = f.plan.toLowerCase() === 'custom' ? { windows: required(f.window, '--window') } : f.plan;
      await run('smartlead', {
        plan,
        apiKey: f.apiKey,
        port: f.port,
        host: f.host,
        timeScale: f.timeScale,
        sharedShare: f.sharedShare,
        campaigns: f.campaign.map((id) => ({ id })),
        addLeadsAnswer: f.addLeadsAnswer,
        faults: faultsOf(f),
      });
    });
}

function withCommonFlags(command: Command, defaultPlan: string, defaultPort: number): Command {
  const vendor = command.name() as VendorName;
  return command
    .option('--plan <plan>', `plan to enforce: ${planNames(vendor).join(', ')}, or custom`, defaultPlan)
    .option('--port <n>', 'port to listen on (0: any free port)', String(defaultPort))
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--error-rate <share>', 'share of requests answered 500 before anything is written')
    .option('--drop-rate <share>', 'share of connections dropped before anything is written')
    .option('--lost-response-rate <share>', 'share of writes performed, then the connection dropped without an answer')
    .option('--slow-ms <ms>', 'delay slow answers by this much')
    .option('--slow-rate <share>', 'share of answers delayed by --slow-ms (default: all)')
    .option('--seed <n>', 'seed for which requests faults strike, to replay a run');
}

async function run<V extends VendorName>(vendor: V, options: SimulatorOptions[V]): Promise<void> {
  const simulator = await startSimulator(vendor, options);
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

/** A key from its flag, else its environment variable, else the documented default; never shown in --help. */
function keyOf(flag: unknown, variable: keyof typeof SIMULATOR_KEY_DEFAULTS): unknown {
  return flag ?? process.env[variable] ?? SIMULATOR_KEY_DEFAULTS[variable];
}

function parseFlags<S extends z.ZodType>(schema: S, flags: Record<string, unknown>): z.output<S> {
  const parsed = schema.safeParse(flags);
  if (!parsed.success) throw new ConfigError(`invalid simulate options:\n${formatZodIssues(parsed.error)}`);
  return parsed.data;
}

function required(windows: Window[] | undefined, flag: string): Window[] {
  if (!windows?.length) throw new ConfigError(`--plan custom needs at least one ${flag} <limit/seconds>`);
  return windows;
}

function faultsOf(flags: z.output<typeof CommonFlagsSchema>): FaultOptions {
  const { errorRate, dropRate, lostResponseRate, slowMs, slowRate, seed } = flags;
  return Object.fromEntries(
    Object.entries({ errorRate, dropRate, lostResponseRate, slowMs, slowRate, seed }).filter(
      ([, v]) => v !== undefined,
    ),
  );
}
