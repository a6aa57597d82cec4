import { z } from 'zod';
import {
  CommonFlagsSchema,
  Count,
  WindowFlag,
  faultsOf,
  keyOf,
  parseFlags,
  requiredWindows,
} from '../../../simulation/flags.js';
import type { SimulateCommand } from '../../types.js';
import { startSmartLeadSimulator } from './server.js';

const SmartLeadFlagsSchema = CommonFlagsSchema.extend({
  apiKey: z.string().min(1),
  timeScale: z.coerce.number().positive(),
  sharedShare: z.coerce.number().min(0).lt(1),
  campaign: z.array(Count.positive()).default([]),
  window: z.array(WindowFlag).optional(),
  addLeadsAnswer: z.enum(['classic', 'classic-counts', 'new']),
});

/** `leadsync simulate smartlead`. */
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
  start(flags) {
    const f = parseFlags(SmartLeadFlagsSchema, { ...flags, apiKey: keyOf(flags.apiKey, 'LEADSYNC_SIM_API_KEY') });
    const plan = f.plan.toLowerCase() === 'custom' ? { windows: requiredWindows(f.window, '--window') } : f.plan;
    return startSmartLeadSimulator({
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
  },
};
