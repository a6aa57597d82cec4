import type { SimulateCommand } from '../types.js';

/**
 * `leadsync simulate smartlead`: its description and flags, which the CLI reads without loading the simulator
 * (simulator/command.ts starts it).
 */
export const simulateSmartLead: SimulateCommand = {
  description: 'simulate SmartLead API v1 (base URL http://HOST:PORT/api/v1)',
  defaultPlan: 'standard',
  defaultPort: 8720,
  flags: [
    { flags: '--api-key <key>', description: 'api_key to accept (default: $LEADSYNC_SIM_API_KEY, else sim-api-key)' },
    {
      flags: '--time-scale <n>',
      description: 'simulated seconds per real second (60: an hour of quota per real minute)',
      defaultValue: '1',
    },
    {
      flags: '--shared-share <share>',
      description: 'share (0..1) of every window another integration on the same key spends',
      defaultValue: '0',
    },
    {
      flags: '--campaign <id>',
      description: 'a campaign to create (repeatable; more via POST <admin>/campaigns)',
      repeatable: true,
    },
    {
      flags: '--window <limit/seconds>',
      description: 'with --plan custom: a window of the key (repeatable)',
      repeatable: true,
    },
    {
      flags: '--add-leads-answer <shape>',
      description: 'answer uploads in the classic shape (lists), classic-counts (counts only) or new',
      defaultValue: 'classic',
    },
  ],
};
