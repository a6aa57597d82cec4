import { parseArgs } from 'node:util';
import { BenchTemporal } from './harness.js';
import { benchLeadSquaredPlans, planTable } from './leadsquared.js';

/**
 * `npm run bench`: rate and timing claims, measured against strict simulators on a real Temporal dev server.
 * `--quick` runs shorter syncs (still 6 windows each); `--plans lite,enterprise` picks LeadSquared plans.
 */
const { values } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, plans: { type: 'string' } },
});

const temporal = await BenchTemporal.start();
try {
  const seconds = values.quick ? 32 : 60;
  const runs = await benchLeadSquaredPlans(temporal, seconds, values.plans?.split(','));
  process.stdout.write(`\nLeadSquared plans (strict reading: a bulk call also spends a general request)\n`);
  process.stdout.write(`${planTable(runs)}\n`);
} finally {
  await temporal.stop();
}
