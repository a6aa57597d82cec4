import { z } from 'zod';
import {
  CommonFlagsSchema,
  WindowFlag,
  faultsOf,
  keyOf,
  parseFlags,
  requiredWindows,
} from '../../../simulation/flags.js';
import type { SimulateCommand } from '../../types.js';
import { startLeadSquaredSimulator } from './server.js';

const LeadSquaredFlagsSchema = CommonFlagsSchema.extend({
  accessKey: z.string().min(1),
  secretKey: z.string().min(1),
  rateLimitStatus: z.enum(['429', '200']).transform(Number),
  bulkSpendsGeneral: z.boolean(),
  general: z.array(WindowFlag).optional(),
  bulk: z.array(WindowFlag).optional(),
});

/** `leadsync simulate leadsquared`. */
export const simulateLeadSquared: SimulateCommand = {
  description: 'simulate LeadSquared API v2 (base URL http://HOST:PORT/v2/)',
  defaultPlan: 'pro',
  defaultPort: 8710,
  flags: [
    {
      flags: '--access-key <key>',
      description: 'access key to accept (default: $LEADSYNC_SIM_ACCESS_KEY, else sim-access-key)',
    },
    {
      flags: '--secret-key <key>',
      description: 'secret key to accept (default: $LEADSYNC_SIM_SECRET_KEY, else sim-secret-key)',
    },
    {
      flags: '--rate-limit-status <status>',
      description: 'HTTP status of a rate-limit answer: 429 as documented, or 200 as seen in the wild',
      defaultValue: '429',
    },
    {
      flags: '--no-bulk-spends-general',
      description: 'let bulk calls spend from the bulk lane only (default: from general too)',
    },
    {
      flags: '--general <limit/seconds>',
      description: 'with --plan custom: a window of the general lane (repeatable)',
      repeatable: true,
    },
    {
      flags: '--bulk <limit/seconds>',
      description: 'with --plan custom: a window of the bulk lane (repeatable)',
      repeatable: true,
    },
  ],
  start(flags) {
    const f = parseFlags(LeadSquaredFlagsSchema, {
      ...flags,
      accessKey: keyOf(flags.accessKey, 'LEADSYNC_SIM_ACCESS_KEY'),
      secretKey: keyOf(flags.secretKey, 'LEADSYNC_SIM_SECRET_KEY'),
    });
    const plan =
      f.plan.toLowerCase() === 'custom'
        ? { general: requiredWindows(f.general, '--general'), bulk: requiredWindows(f.bulk, '--bulk') }
        : f.plan;
    return startLeadSquaredSimulator({
      plan,
      accessKey: f.accessKey,
      secretKey: f.secretKey,
      port: f.port,
      host: f.host,
      rateLimitStatus: f.rateLimitStatus === 200 ? 200 : 429,
      bulkSpendsGeneral: f.bulkSpendsGeneral,
      faults: faultsOf(f),
    });
  },
};
