import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import type { Window } from '../core/plans.js';
import type { FaultOptions } from './faults.js';
import { parseOptions } from './serve.js';

/** The parts of `leadsync simulate <vendor>`'s flags every vendor shares: each vendor's own schema extends these. */

export const Count = z.coerce.number().int();
const Rate = z.coerce.number().min(0).max(1);

/** `25/5`: 25 requests per 5 seconds. */
export const WindowFlag = z
  .string()
  .regex(/^\d+\/\d+(\.\d+)?$/, 'a window is <limit>/<seconds>, e.g. 25/5')
  .transform((text): Window => {
    const [limit, seconds] = text.split('/').map(Number) as [number, number];
    return { limit, seconds };
  });

export const CommonFlagsSchema = z.object({
  plan: z.string().min(1),
  port: Count.min(0).max(65_535),
  host: z.string().min(1),
  errorRate: Rate.optional(),
  bareErrorRate: Rate.optional(),
  dropRate: Rate.optional(),
  lostResponseRate: Rate.optional(),
  slowMs: Count.min(0).optional(),
  slowRate: Rate.optional(),
  seed: Count.optional(),
});

/** The keys a simulator accepts, unless flags say otherwise: fake ones, so no real secret is needed to rehearse. */
const SIMULATOR_KEY_DEFAULTS = {
  LEADSYNC_SIM_ACCESS_KEY: 'sim-access-key',
  LEADSYNC_SIM_SECRET_KEY: 'sim-secret-key',
  LEADSYNC_SIM_API_KEY: 'sim-api-key',
} as const;

/** A key from its flag, else its environment variable, else the documented default; never shown in --help. */
export function keyOf(flag: unknown, variable: keyof typeof SIMULATOR_KEY_DEFAULTS): unknown {
  return flag ?? process.env[variable] ?? SIMULATOR_KEY_DEFAULTS[variable];
}

export function parseFlags<S extends z.ZodType>(schema: S, flags: Record<string, unknown>): z.output<S> {
  return parseOptions(schema, flags, 'simulate options');
}

/** The windows `--plan custom` needs from a repeatable flag. */
export function requiredWindows(windows: Window[] | undefined, flag: string): Window[] {
  if (!windows?.length) throw new ConfigError(`--plan custom needs at least one ${flag} <limit/seconds>`);
  return windows;
}

export function faultsOf(flags: z.output<typeof CommonFlagsSchema>): FaultOptions {
  const { errorRate, bareErrorRate, dropRate, lostResponseRate, slowMs, slowRate, seed } = flags;
  return Object.fromEntries(
    Object.entries({ errorRate, bareErrorRate, dropRate, lostResponseRate, slowMs, slowRate, seed }).filter(
      ([, v]) => v !== undefined,
    ),
  );
}
