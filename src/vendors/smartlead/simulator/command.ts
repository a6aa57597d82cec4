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
import type { VendorSimulator } from '../../types.js';
import { startSmartLeadSimulator } from './server.js';

const SmartLeadFlagsSchema = CommonFlagsSchema.extend({
  apiKey: z.string().min(1),
  timeScale: z.coerce.number().positive(),
  sharedShare: z.coerce.number().min(0).lt(1),
  campaign: z.array(Count.positive()).default([]),
  window: z.array(WindowFlag).optional(),
  addLeadsAnswer: z.enum(['classic', 'classic-counts', 'new']),
});

/** How `leadsync dev` and `leadsync simulate smartlead` start the simulator. */
export const smartLeadSimulator: VendorSimulator<'apiKey'> = {
  // One campaign for dev's sync to go to.
  startFor(plan, { apiKey }) {
    const windows = plan.name === 'custom' ? { windows: plan.lanes.general!.windows } : plan.name;
    return startSmartLeadSimulator({ plan: windows, apiKey, campaigns: [{ id: 1 }] });
  },
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
