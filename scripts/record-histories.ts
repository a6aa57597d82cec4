/**
 * Records the workflow histories the replay test replays: run it after a deliberate, versioned change to a
 * workflow, and commit the new files beside the old ones (old histories must keep replaying).
 *
 *   npx tsx scripts/record-histories.ts
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { BenchTemporal, writeLeadsCsv } from '../bench/harness.js';
import { startLeadSquaredSimulator } from '../src/simulators/leadsquared/server.js';
import { governorWorkflowId } from '../workflows/governor.js';

const OUT = join(import.meta.dirname, '..', 'test', 'fixtures', 'histories');

const temporal = await BenchTemporal.start();
const simulator = await startLeadSquaredSimulator({
  plan: 'enterprise',
  accessKey: 'rec-access',
  secretKey: 'rec-secret',
});
try {
  const account = 'recorded';
  const file = await writeLeadsCsv(80, 'recorded');
  // A small chunk budget, so the recorded run ends in continue-as-new like a long sync's runs do.
  const { handle } = await temporal.withWorker(
    {
      name: account,
      settings: {
        vendor: 'leadsquared',
        plan: 'enterprise',
        baseUrl: simulator.baseUrl,
        credentials: { accessKeyEnv: 'REC_AK', secretKeyEnv: 'REC_SK' },
      },
    },
    { REC_AK: 'rec-access', REC_SK: 'rec-secret' },
    async (taskQueue) => {
      const handle = await temporal.client.workflow.start('leadSync', {
        taskQueue,
        workflowId: `recorded-sync-${Date.now()}`,
        args: [{ account, source: { kind: 'csv', path: file } }, null, 20],
      });
      await handle.result();
      return { handle };
    },
  );
  const first = temporal.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId);
  await writeFile(join(OUT, 'lead-sync.json'), historyToJSON(await first.fetchHistory()));
  const governor = temporal.client.workflow.getHandle(governorWorkflowId(account));
  await governor.terminate('recorded');
  await writeFile(join(OUT, 'account-governor.json'), historyToJSON(await governor.fetchHistory()));
  process.stdout.write(`histories written to ${OUT}\n`);
} finally {
  await simulator.stop();
  await temporal.stop();
}
