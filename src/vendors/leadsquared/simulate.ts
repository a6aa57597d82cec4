import type { SimulateCommand } from '../types.js';

/**
 * `leadsync simulate leadsquared`: its description and flags, which the CLI reads without loading the simulator
 * (simulator/command.ts starts it).
 */
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
};
