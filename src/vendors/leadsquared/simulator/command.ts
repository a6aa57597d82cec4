import { z } from 'zod';
import {
  CommonFlagsSchema,
  WindowFlag,
  faultsOf,
  keyOf,
  parseFlags,
  requiredWindows,
} from '../../../simulation/flags.js';
import type { VendorSimulator } from '../../types.js';
import { startLeadSquaredSimulator } from './server.js';

const LeadSquaredFlagsSchema = CommonFlagsSchema.extend({
  accessKey: z.string().min(1),
  secretKey: z.string().min(1),
  rateLimitStatus: z.enum(['429', '200']).transform(Number),
  bulkSpendsGeneral: z.boolean(),
  general: z.array(WindowFlag).optional(),
  bulk: z.array(WindowFlag).optional(),
});

/** How `leadsync dev` and `leadsync simulate leadsquared` start the simulator. */
export const leadSquaredSimulator: VendorSimulator<'accessKey' | 'secretKey'> = {
  startFor(plan, { accessKey, secretKey }) {
    const { general, bulk } = plan.lanes;
    const windows = plan.name === 'custom' ? { general: general!.windows, bulk: bulk!.windows } : plan.name;
    return startLeadSquaredSimulator({ plan: windows, accessKey, secretKey });
  },
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
