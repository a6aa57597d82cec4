import { parseArgs } from 'node:util';
import { BenchTemporal } from './harness.js';
import { SCALE_PLANS, benchScale, scaleRunLine } from './scale.js';

/**
 * One scale row in a process of its own, on the Temporal server TEMPORAL_ADDRESS names: `npm run bench -- --scale`
 * runs each plan here (benchScaleInOwnProcess) and reads the row back from its output.
 */
const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    'window-seconds': { type: 'string', default: '5' },
    /** Node's options for the worker process, space-separated: `--max-old-space-size=128`. */
    'worker-node-options': { type: 'string', default: '' },
  },
});
const plan = SCALE_PLANS.find((p) => p.window.seconds === Number(values['window-seconds']));
if (!plan) throw new Error(`no scale plan counts in ${values['window-seconds']}-second windows`);

const temporal = await BenchTemporal.start();
try {
  const nodeOptions = values['worker-node-options'].split(' ').filter(Boolean);
  const run = await benchScale(temporal, Number(values.rows), plan, nodeOptions);
  process.stdout.write(`${scaleRunLine(run)}\n`);
} finally {
  await temporal.stop();
}
