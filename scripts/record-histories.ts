/**
 * Records the workflow histories the replay test replays: run it after a deliberate, versioned change to a
 * workflow, and commit the new files beside the old ones (old histories must keep replaying).
 *
 *   npx tsx scripts/record-histories.ts
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ensureTemporalCli } from '../src/temporal/cli.js';
import { BenchTemporal, writeLeadsCsv } from '../bench/harness.js';
import { startLeadSquaredSimulator } from '../src/simulators/leadsquared/server.js';
import { governorWorkflowId } from '../workflows/governor.js';

const OUT = join(import.meta.dirname, '..', 'test', 'fixtures', 'histories');

/** The history in the proto JSON that `temporal workflow show` writes and the replayer reads. */
async function showHistory(temporal: BenchTemporal, workflowId: string, runId?: string): Promise<string> {
  const args = ['workflow', 'show', '--address', temporal.endpoint.address, '--workflow-id', workflowId];
  if (runId) args.push('--run-id', runId);
  const { stdout } = await promisify(execFile)((await ensureTemporalCli()).path, [...args, '--output', 'json'], {
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

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
  await writeFile(
    join(OUT, 'lead-sync.json'),
    await showHistory(temporal, handle.workflowId, handle.firstExecutionRunId),
  );
  const governor = temporal.client.workflow.getHandle(governorWorkflowId(account));
  await governor.terminate('recorded');
  await writeFile(join(OUT, 'account-governor.json'), await showHistory(temporal, governorWorkflowId(account)));
  process.stdout.write(`histories written to ${OUT}\n`);
} finally {
  await simulator.stop();
  await temporal.stop();
}
