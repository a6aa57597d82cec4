import { parseArgs } from 'node:util';
import { startReconcile } from '../src/api/reconciles.js';
import { startSync } from '../src/api/syncs.js';
import { RECONCILE_SHARE } from '../src/core/reconcile.js';
import { startLeadSquaredSimulator } from '../src/vendors/leadsquared/simulator/server.js';
import { BenchTemporal, writeLeadsCsv } from './harness.js';

/**
 * `npx tsx bench/reconcile.ts [--share 0.4] [--rounds 3]`: a sync at share 0.6, alone and then beside a reconciliation (at low priority) at a share
 * (its default, the whole plan, unless given) on the same LeadSquared account, and the sync's rate each time; `--rounds`
 * times over (a sync of 24 s on a shared machine varies by more than the 2% the issue holds it to). The plan is a custom one, fast enough that
 * a round takes a minute: 100 general calls a second, 10 bulk calls (of 50 rows, each spending a general call too).
 */
const general = { limit: 100, seconds: 1 };
const bulk = { limit: 10, seconds: 1 };
const SYNC_ROWS = 6_000;
const { values } = parseArgs({
  options: { share: { type: 'string', default: String(RECONCILE_SHARE) }, rounds: { type: 'string', default: '1' } },
});
const share = Number(values.share);
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a whole number of 1 or more`);
const RECONCILED_ROWS = 1_500;

const temporal = await BenchTemporal.start();
const simulator = await startLeadSquaredSimulator({
  plan: { general: [general], bulk: [bulk] },
  accessKey: 'bench-access',
  secretKey: 'bench-secret',
});
try {
  const account = {
    name: 'reconcile-bench',
    settings: {
      vendor: 'leadsquared',
      plan: 'custom',
      baseUrl: simulator.baseUrl,
      credentials: { accessKeyEnv: 'RECONCILE_BENCH_ACCESS', secretKeyEnv: 'RECONCILE_BENCH_SECRET' },
      lanes: {
        general: { windows: [general], rowsPerCall: 1 },
        bulk: { windows: [bulk], rowsPerCall: 50, alsoSpends: ['general'] },
      },
    },
  };
  const env = { RECONCILE_BENCH_ACCESS: 'bench-access', RECONCILE_BENCH_SECRET: 'bench-secret' };
  const measured = await temporal.withWorker(account, env, async (taskQueue) => {
    const sync = async (rows: number, prefix: string, share: number) => {
      const file = await writeLeadsCsv(rows, prefix);
      const handle = await startSync(
        temporal.client,
        { account: account.name, source: { kind: 'csv', path: file }, share },
        { taskQueue },
      );
      return { file, result: await handle.result() };
    };
    const reconciled = await sync(RECONCILED_ROWS, 'reconciled', 1);
    const runs = [];
    for (let round = 0; round < rounds; round++) {
      const alone = (await sync(SYNC_ROWS, `alone-${round}`, 0.6)).result;
      const reconcile = await startReconcile(
        temporal.client,
        { account: account.name, source: { kind: 'csv', path: reconciled.file }, share },
        { taskQueue },
      );
      const beside = (await sync(SYNC_ROWS, `beside-${round}`, 0.6)).result;
      const drift = await reconcile.result();
      runs.push({ alone: alone.read / alone.seconds, beside: beside.read / beside.seconds, drift });
    }
    return runs;
  });
  for (const rate of measured) {
    console.log(
      `sync at share 0.6, ${SYNC_ROWS} rows: alone ${rate.alone.toFixed(1)} rows/s, beside a reconciliation at share ${share} ` +
        `${rate.beside.toFixed(1)} rows/s (${((100 * (rate.alone - rate.beside)) / rate.alone).toFixed(1)}% lower); ` +
        `the reconciliation checked ${rate.drift.checked} leads in ${rate.drift.seconds.toFixed(1)} s`,
    );
  }
} finally {
  await simulator.stop();
  await temporal.stop();
}
