import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { stringify as toYaml } from 'yaml';
import { startSync, type SyncHandle } from '../src/api/syncs.js';
import { seededRandom, type FaultOptions } from '../src/simulation/faults.js';
import {
  startLeadSquaredSimulator,
  type RunningLeadSquaredSimulator,
} from '../src/vendors/leadsquared/simulator/server.js';
import { startSmartLeadSimulator, type RunningSmartLeadSimulator } from '../src/vendors/smartlead/simulator/server.js';
import type { SyncInput, SyncResult } from '../src/core/contract.js';
import { ensureTemporalCli } from '../src/temporal/cli-build.js';
import { startDevServer, type DevServer } from '../src/temporal/dev-server.js';
import { LEADSYNC_SEARCH_ATTRIBUTES } from '../src/core/search-attributes.js';
import { cliWorkerArguments } from '../test/helpers/cli-worker.js';
import { auditWrites, type Disruptions, type WriteAudit } from '../test/helpers/write-counts.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const TASK_QUEUE = 'leadsync-chaos';
const CAMPAIGN = 1;
/** Vendor calls time out after this; a slow answer takes longer, so it times out after the write was made. */
const CALL_TIMEOUT_MS = 2_000;
const SLOW_ANSWER_MS = 3_000;
/** One row in this many is invalid: each must end in the rejects report, never at the vendor. */
const BAD_ROW_EVERY = 97;

/**
 * Fast plans, so ten thousand rows take minutes: the simulators enforce them as strictly as the published ones, and
 * the accounts are configured with the same windows.
 */
const LEADSQUARED_LANES = {
  general: { windows: [{ limit: 10, seconds: 1 }], rowsPerCall: 1 },
  bulk: { windows: [{ limit: 2, seconds: 1 }], rowsPerCall: 50, alsoSpends: ['general'] },
};
const SMARTLEAD_WINDOWS = [{ limit: 2, seconds: 1 }];
/** Small SmartLead batches: more calls for the faults to strike, and a sync long enough to kill workers in. */
const SMARTLEAD_ROWS_PER_CALL = 25;

export interface Scenario {
  name: string;
  /** What the vendors do wrong while the scenario runs. */
  faults?: FaultOptions;
  /** Kill a worker process with SIGKILL this many times, at random moments. */
  kills?: number;
  /** Restart the Temporal dev server (database kept) this many times. */
  restarts?: number;
}

export const FULL_SCENARIOS: Scenario[] = [
  { name: 'worker SIGKILL', kills: 4 },
  { name: 'vendor 500s', faults: { errorRate: 0.2 } },
  { name: 'vendor timeouts', faults: { slowMs: SLOW_ANSWER_MS, slowRate: 0.1 } },
  { name: 'dropped connections', faults: { dropRate: 0.15 } },
  { name: 'lost responses + SIGKILL', faults: { lostResponseRate: 0.2 }, kills: 3 },
  { name: 'Temporal restart', restarts: 1, kills: 1 },
  {
    name: 'everything at once',
    faults: { errorRate: 0.05, dropRate: 0.05, lostResponseRate: 0.1, slowMs: SLOW_ANSWER_MS, slowRate: 0.03 },
    kills: 3,
    restarts: 1,
  },
];

export interface ChaosOptions {
  scenarios: Scenario[];
  /** Rows per scenario for each vendor. */
  rows: { leadsquared: number; smartlead: number };
  /** Worker processes kept running (a killed one is replaced at once). */
  workers?: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface ScenarioReport {
  scenario: string;
  rows: number;
  kills: number;
  restarts: number;
  /** 500s, dropped connections and lost responses the simulators counted; slow answers are not counted there. */
  vendorFaults: number;
  /** Chunk attempts that failed and were retried (what timeouts, faults, kills and restarts cost). */
  retried: number;
  /** Rows compared against the vendors' stores and the rejects reports. */
  checked: number;
  /** Rows neither at the vendor nor in the rejects report, or good rows rejected. */
  lost: number;
  /**
   * Writes no fault explains (test/helpers/write-counts.ts): a lead sent again though the worker heard the answer to
   * its earlier write and neither died nor lost its server in between; and leads stored more than once, or stored
   * without being in the source.
   */
  duplicated: number;
  /**
   * Lead writes beyond the first per lead, as each simulator's request log shows them (LeadSquared per lead, SmartLead
   * per campaign and address), every one explained by a lost answer, a killed worker or a server restart: a resend of
   * an upsert by email, which SmartLead dedupes.
   */
  leadSquaredResent: number;
  smartLeadResent: number;
  seconds: number;
}

/**
 * Runs each scenario as one LeadSquared and one SmartLead sync at once against the simulators, on worker processes it
 * kills and a Temporal dev server it restarts, then compares what the vendors hold with the source files.
 */
export async function runChaos(options: ChaosOptions): Promise<ScenarioReport[]> {
  const log = options.log ?? (() => undefined);
  const random = seededRandom(options.seed ?? Date.now());
  const directory = await mkdtemp(join(tmpdir(), 'leadsync-chaos-'));
  const keys = { access: 'chaos-access', secret: 'chaos-secret', api: 'chaos-api-key' };
  const leadsquared = await startLeadSquaredSimulator({
    plan: { general: LEADSQUARED_LANES.general.windows, bulk: LEADSQUARED_LANES.bulk.windows },
    accessKey: keys.access,
    secretKey: keys.secret,
  });
  const smartlead = await startSmartLeadSimulator({
    plan: { windows: SMARTLEAD_WINDOWS },
    apiKey: keys.api,
    campaigns: [{ id: CAMPAIGN }],
  });
  const configPath = await writeConfig(directory, leadsquared, smartlead);
  const temporal = new RestartableTemporal(directory, await freePort());
  await temporal.start();
  const workers = new WorkerPool(options.workers ?? 2, {
    configPath,
    address: temporal.address,
    env: { CHAOS_ACCESS_KEY: keys.access, CHAOS_SECRET_KEY: keys.secret, CHAOS_API_KEY: keys.api },
    logFile: join(directory, 'workers.log'),
  });
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection });
  const reports: ScenarioReport[] = [];
  try {
    await workers.start();
    for (const [index, scenario] of options.scenarios.entries()) {
      log(`scenario ${index + 1}/${options.scenarios.length}: ${scenario.name}`);
      const report = await runScenario(scenario, {
        index,
        directory,
        client,
        temporal,
        workers,
        leadsquared,
        smartlead,
        rows: options.rows,
        random,
        log,
      });
      log(`  ${JSON.stringify(report)}`);
      reports.push(report);
    }
  } finally {
    await workers.stop();
    await connection.close();
    await temporal.stop();
    await leadsquared.stop();
    await smartlead.stop();
    log(`logs in ${directory}`);
  }
  return reports;
}

interface ScenarioContext {
  index: number;
  directory: string;
  client: Client;
  temporal: RestartableTemporal;
  workers: WorkerPool;
  leadsquared: RunningLeadSquaredSimulator;
  smartlead: RunningSmartLeadSimulator;
  rows: ChaosOptions['rows'];
  random: () => number;
  log: (line: string) => void;
}

async function runScenario(scenario: Scenario, context: ScenarioContext): Promise<ScenarioReport> {
  const { leadsquared, smartlead, client } = context;
  const started = Date.now();
  leadsquared.reset();
  smartlead.reset();
  const prefix = `s${context.index}`;
  const lsqFile = await sourceFile(
    context.directory,
    `${prefix}-leadsquared.csv`,
    'EmailAddress,FirstName',
    prefix,
    'lsq',
    context.rows.leadsquared,
  );
  const slFile = await sourceFile(
    context.directory,
    `${prefix}-smartlead.csv`,
    'email,first_name',
    prefix,
    'sl',
    context.rows.smartlead,
  );
  const faultSeed = Math.floor(context.random() * 2 ** 31);
  leadsquared.setFaults({ ...scenario.faults, seed: faultSeed });
  smartlead.setFaults({ ...scenario.faults, seed: faultSeed + 1 });

  const inputs: SyncInput[] = [
    { account: 'chaos-lsq', source: { kind: 'csv', path: lsqFile.path } },
    { account: 'chaos-sl', source: { kind: 'csv', path: slFile.path }, target: { campaignId: CAMPAIGN } },
  ];
  const handles = await Promise.all(
    inputs.map((input) => retryWhileUnavailable(() => startSync(client, input, { taskQueue: TASK_QUEUE }))),
  );
  const results = Promise.all(handles.map((handle) => resultOf(handle)));
  let finished = false;
  void results.finally(() => (finished = true));
  const injected = await injectFaults(scenario, context, () => finished);
  const [lsqResult, slResult] = await results;
  const disruptions: Disruptions = {
    ended: context.workers.ended.filter((end) => end.at >= started),
    restarts: context.temporal.restarts.filter((restart) => restart.to >= started),
  };
  const vendorFaults =
    leadsquared.report({ requests: false }).totals.faults + smartlead.report({ requests: false }).totals.faults;
  leadsquared.setFaults({});
  smartlead.setFaults({});

  const lsqCheck = await check(
    lsqFile,
    lsqResult!,
    leadsquared.leads().map((lead) => lead.email),
    leadsquared.report({ requests: false }).duplicates,
  );
  const slCheck = await check(
    slFile,
    slResult!,
    smartlead.leads(CAMPAIGN).map((lead) => lead.email),
    0,
  );
  const lsqWrites = auditWrites(leadsquared, 'lead', disruptions);
  const slWrites = auditWrites(smartlead, 'lead', disruptions);
  for (const [vendor, writes] of [
    ['LeadSquared', lsqWrites],
    ['SmartLead', slWrites],
  ] as const) {
    logDuplicates(vendor, writes, context.log);
  }
  return {
    scenario: scenario.name,
    rows: lsqFile.rows + slFile.rows,
    kills: injected.kills,
    restarts: injected.restarts,
    vendorFaults,
    retried: lsqResult!.retried + slResult!.retried,
    checked: lsqCheck.checked + slCheck.checked,
    lost: lsqCheck.lost + slCheck.lost,
    duplicated: lsqCheck.duplicated + slCheck.duplicated + lsqWrites.duplicates.length + slWrites.duplicates.length,
    leadSquaredResent: lsqWrites.resent,
    smartLeadResent: slWrites.resent,
    seconds: Math.round((Date.now() - started) / 1000),
  };
}

function logDuplicates(vendor: string, writes: WriteAudit, log: (line: string) => void): void {
  for (const duplicate of writes.duplicates.slice(0, 5)) {
    log(`  ${vendor} ${duplicate.key} written again: ${duplicate.before}, then ${duplicate.again}`);
  }
  if (writes.duplicates.length > 5) log(`  ... and ${writes.duplicates.length - 5} more ${vendor} duplicates`);
}

/** Kills workers and restarts the server at random moments until the syncs finish or the scenario's quota is spent. */
async function injectFaults(
  scenario: Scenario,
  { temporal, workers, random, log }: ScenarioContext,
  finished: () => boolean,
): Promise<{ kills: number; restarts: number }> {
  const done = { kills: 0, restarts: 0 };
  const wanted = { kills: scenario.kills ?? 0, restarts: scenario.restarts ?? 0 };
  while (!finished() && (done.kills < wanted.kills || done.restarts < wanted.restarts)) {
    await sleep(1_000 + random() * 3_000);
    if (finished()) break;
    const restart = done.restarts < wanted.restarts && (done.kills >= wanted.kills || random() < 0.3);
    if (restart) {
      log('  restarting the Temporal dev server');
      await temporal.restart();
      done.restarts++;
    } else if (workers.killOne(random)) {
      done.kills++;
    }
  }
  return done;
}

interface SourceFile {
  path: string;
  rows: number;
  good: Map<string, number>;
  bad: Set<number>;
}

async function sourceFile(
  directory: string,
  name: string,
  header: string,
  prefix: string,
  vendor: string,
  rows: number,
): Promise<SourceFile> {
  const good = new Map<string, number>();
  const bad = new Set<number>();
  const lines = [header];
  for (let row = 1; row <= rows; row++) {
    if (row % BAD_ROW_EVERY === 0) {
      bad.add(row);
      lines.push(`not-an-email-${prefix}-${row},Bad`);
    } else {
      const email = `${prefix}-${vendor}-${row}@example.com`;
      good.set(email, row);
      lines.push(`${email},First${row}`);
    }
  }
  const path = join(directory, name);
  await writeFile(path, `${lines.join('\n')}\n`);
  return { path, rows, good, bad };
}

/** Every source row must be at the vendor exactly once or in the rejects report, and nothing else at the vendor. */
async function check(
  source: SourceFile,
  result: SyncResult,
  storedEmails: string[],
  duplicateActivities: number,
): Promise<{ checked: number; lost: number; duplicated: number }> {
  const stored = new Map<string, number>();
  for (const email of storedEmails) stored.set(email.toLowerCase(), (stored.get(email.toLowerCase()) ?? 0) + 1);
  const rejected = new Map<number, string>();
  if (result.rejectsFile) {
    for (const line of (await readFile(result.rejectsFile, 'utf8')).trim().split('\n').slice(1)) {
      const [row, , reason] = line.split(',');
      rejected.set(Number(row), reason ?? '');
    }
  }
  let lost = 0;
  let duplicated = duplicateActivities;
  for (const [email, row] of source.good) {
    const count = stored.get(email) ?? 0;
    if (count === 0 || rejected.has(row)) lost++;
    if (count > 1) duplicated += count - 1;
  }
  for (const row of source.bad) if (!rejected.get(row)) lost++;
  for (const email of stored.keys()) if (!source.good.has(email)) duplicated++;
  if (result.read !== source.rows || result.accepted !== source.good.size)
    lost += Math.abs(result.accepted - source.good.size);
  return { checked: source.rows, lost, duplicated };
}

/** The sync's result, waiting out a restarting server rather than failing with it. */
async function resultOf(handle: SyncHandle): Promise<SyncResult> {
  return retryWhileUnavailable(() => handle.result());
}

async function retryWhileUnavailable<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (attempt >= 60 || !isUnavailable(err)) throw err;
      await sleep(1_000);
    }
  }
}

function isUnavailable(err: unknown): boolean {
  const text = `${err instanceof Error ? `${err.name} ${err.message} ${String(err.cause)}` : String(err)}`;
  return /unavailable|connect|deadline|transport|ECONNREFUSED|14 /i.test(text);
}

/** A dev server on a fixed port with its database in a directory, so a restart brings back every workflow. */
class RestartableTemporal {
  private server: DevServer | undefined;
  readonly address: string;
  /** When each restart stopped the server and when it answered again. */
  readonly restarts: { from: number; to: number }[] = [];

  constructor(
    private readonly directory: string,
    private readonly port: number,
  ) {
    this.address = `127.0.0.1:${port}`;
  }

  async start(): Promise<void> {
    this.server = await startDevServer({
      cliPath: (await ensureTemporalCli()).path,
      port: this.port,
      headless: true,
      dataDir: join(this.directory, 'temporal'),
      searchAttributes: LEADSYNC_SEARCH_ATTRIBUTES,
    });
  }

  async restart(): Promise<void> {
    const from = Date.now();
    await this.stop();
    await this.start();
    this.restarts.push({ from, to: Date.now() });
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    this.server = undefined;
  }
}

/**
 * Worker processes of the leadsync CLI, each naming itself in its vendor requests (test/helpers/tag-senders.ts); one
 * that dies (killed, or lost to a server restart) is replaced.
 */
class WorkerPool {
  private readonly processes = new Set<ChildProcess>();
  private stopping = false;
  private readonly output: WriteStream;
  /** Processes that died before the pool was stopped, and when. */
  readonly ended: { pid: number; at: number }[] = [];

  constructor(
    private readonly size: number,
    private readonly options: { configPath: string; address: string; env: Record<string, string>; logFile: string },
  ) {
    this.output = createWriteStream(options.logFile, { flags: 'a' });
  }

  async start(): Promise<void> {
    for (let i = 0; i < this.size; i++) this.spawn();
  }

  /** SIGKILL to a random worker, which is replaced at once. */
  killOne(random: () => number): boolean {
    const alive = [...this.processes].filter((child) => child.exitCode === null && child.signalCode === null);
    const victim = alive[Math.floor(random() * alive.length)];
    if (!victim) return false;
    this.output.write(`--- SIGKILL ${victim.pid}\n`);
    victim.kill('SIGKILL');
    return true;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      [...this.processes].map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      }),
    );
    this.output.end();
  }

  private spawn(): void {
    const child = spawn(process.execPath, cliWorkerArguments(this.options.configPath, TASK_QUEUE), {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        ...this.options.env,
        TEMPORAL_ADDRESS: this.options.address,
        TEMPORAL_NAMESPACE: 'default',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.pipe(this.output, { end: false });
    child.stderr!.pipe(this.output, { end: false });
    this.processes.add(child);
    child.once('exit', () => {
      this.processes.delete(child);
      if (this.stopping) return;
      this.ended.push({ pid: child.pid!, at: Date.now() });
      this.spawn();
    });
  }
}

async function writeConfig(
  directory: string,
  leadsquared: RunningLeadSquaredSimulator,
  smartlead: RunningSmartLeadSimulator,
): Promise<string> {
  const path = join(directory, 'leadsync.yaml');
  await writeFile(
    path,
    toYaml({
      accounts: {
        'chaos-lsq': {
          vendor: 'leadsquared',
          plan: 'custom',
          lanes: LEADSQUARED_LANES,
          baseUrl: leadsquared.baseUrl,
          timeoutMs: CALL_TIMEOUT_MS,
          credentials: { accessKeyEnv: 'CHAOS_ACCESS_KEY', secretKeyEnv: 'CHAOS_SECRET_KEY' },
        },
        'chaos-sl': {
          vendor: 'smartlead',
          plan: 'custom',
          lanes: { general: { windows: SMARTLEAD_WINDOWS, rowsPerCall: SMARTLEAD_ROWS_PER_CALL } },
          baseUrl: smartlead.baseUrl,
          timeoutMs: CALL_TIMEOUT_MS,
          credentials: { apiKeyEnv: 'CHAOS_API_KEY' },
        },
      },
      rejects: { directory: join(directory, 'rejects') },
    }),
  );
  return path;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The figures of a run, one line per scenario and a total. */
export function formatTable(reports: ScenarioReport[]): string {
  const total = reports.reduce(
    (sum, r) => ({
      ...sum,
      rows: sum.rows + r.rows,
      kills: sum.kills + r.kills,
      restarts: sum.restarts + r.restarts,
      vendorFaults: sum.vendorFaults + r.vendorFaults,
      retried: sum.retried + r.retried,
      checked: sum.checked + r.checked,
      lost: sum.lost + r.lost,
      duplicated: sum.duplicated + r.duplicated,
      leadSquaredResent: sum.leadSquaredResent + r.leadSquaredResent,
      smartLeadResent: sum.smartLeadResent + r.smartLeadResent,
      seconds: sum.seconds + r.seconds,
    }),
    {
      scenario: `total (${reports.length} scenarios)`,
      rows: 0,
      kills: 0,
      restarts: 0,
      vendorFaults: 0,
      retried: 0,
      checked: 0,
      lost: 0,
      duplicated: 0,
      leadSquaredResent: 0,
      smartLeadResent: 0,
      seconds: 0,
    },
  );
  const header = [
    'scenario',
    'rows',
    'SIGKILLs',
    'Temporal restarts',
    'vendor faults',
    'retried attempts',
    'rows checked',
    'lost',
    'duplicated',
    'LeadSquared leads resent',
    'SmartLead leads resent',
    'seconds',
  ];
  const lines = [...reports, total].map((r) =>
    [
      r.scenario,
      r.rows,
      r.kills,
      r.restarts,
      r.vendorFaults,
      r.retried,
      r.checked,
      r.lost,
      r.duplicated,
      r.leadSquaredResent,
      r.smartLeadResent,
      r.seconds,
    ].map(String),
  );
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...lines.map((cells) => `| ${cells.join(' | ')} |`),
  ].join('\n');
}
