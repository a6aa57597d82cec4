// What an idle `leadsync worker` costs with many accounts configured, per task-queue mode: `npx tsx
// bench/idle-worker.ts [--accounts N] [--mode shared|per-account] [--idle-seconds S]`. On a dev server of its own; the
// accounts point at a closed loopback port, as nothing syncs.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { TaskQueueModeSchema } from '../src/core/task-queues.js';
import { startDevServer } from '../tools/temporal/dev-server.js';
import { processUsage as usage } from './process-usage.js';
import { startWorkerProcess } from './worker-process.js';

const { values } = parseArgs({
  options: {
    accounts: { type: 'string', default: '1000' },
    mode: { type: 'string', default: 'shared' },
    'idle-seconds': { type: 'string', default: '30' },
  },
});
const accounts = Number(values.accounts);
const mode = TaskQueueModeSchema.parse(values.mode);
const idleSeconds = Number(values['idle-seconds']);

const server = await startDevServer({ headless: true });
try {
  const directory = await mkdtemp(join(tmpdir(), 'leadsync-idle-'));
  // JSON: YAML would write the one account object once and alias it a thousand times, which its reader refuses.
  const configPath = join(directory, 'leadsync.json');
  const account = {
    vendor: 'leadsquared',
    plan: 'enterprise',
    baseUrl: 'http://127.0.0.1:9/v2',
    credentials: { accessKeyEnv: 'BENCH_LSQ_ACCESS_KEY', secretKeyEnv: 'BENCH_LSQ_SECRET_KEY' },
  };
  await writeFile(
    configPath,
    JSON.stringify({
      accounts: Object.fromEntries(Array.from({ length: accounts }, (_, i) => [`account-${i + 1}`, account])),
      rejects: { directory: join(directory, 'rejects') },
      worker: { taskQueues: mode },
    }),
  );
  const worker = await startWorkerProcess(server, configPath, 'bench-idle', {
    BENCH_LSQ_ACCESS_KEY: 'u$bench',
    BENCH_LSQ_SECRET_KEY: 'bench',
  });
  const modeLine = worker.startLines.at(-1)!;
  const before = await usage(worker.pid!);
  let peakRssMb = before.rssMb;
  for (let waited = 0; waited < idleSeconds; waited++) {
    await sleep(1_000);
    peakRssMb = Math.max(peakRssMb, (await usage(worker.pid!)).rssMb);
  }
  const after = await usage(worker.pid!);
  const refusedPolls =
    (await readFile(server.logFile, 'utf8')).split('namespace concurrent poller limit exceeded').length - 1;
  await worker.stop();
  console.log(modeLine);
  console.log(
    JSON.stringify({
      mode,
      accounts,
      startSeconds: Number(worker.startSeconds.toFixed(1)),
      idleSeconds,
      rssMb: Math.round(after.rssMb),
      peakRssMb: Math.round(peakRssMb),
      threads: after.threads,
      idleCpuSeconds: Number((after.cpuSeconds - before.cpuSeconds).toFixed(1)),
      refusedPolls,
    }),
  );
} finally {
  await server.stop();
}
