import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncLocalStorage, Context, type Info } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { noopMetricMeter, type Logger } from '@temporalio/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ActivityContext } from '../../activities/context.js';
import { REFUSAL_SPLIT_CALLS } from '../../activities/chunk-faults.js';
import { pushChunk } from '../../activities/push-chunk.js';
import { parseConfig } from '../../src/config/accounts.js';
import { laneTaskQueue } from '../../src/core/task-queues.js';
import { openSource } from '../../src/sources/registry.js';
import { VENDORS } from '../../src/vendors/registry.js';
import type { Transport } from '../../src/vendors/transport.js';
import { START } from '../../src/core/source-refs.js';
import type { ChunkResult, ChunkTask } from '../../src/core/contract.js';
import { SMARTLEAD_ACCOUNT } from '../helpers/accounts.js';

// pushChunk run as the worker runs it (an activity context, the real SmartLead client, CSV source and rejects files),
// with a fetch answering as SmartLead does and a governor granting every slot at once: no Temporal server is needed.

/** The worker's config: the account, and the test's directory as the one root files are read from and rejects go to. */
function configIn(directory: string) {
  return parseConfig(
    {
      accounts: {
        outbound: SMARTLEAD_ACCOUNT,
      },
      sources: { files: { roots: [directory] } },
      rejects: { directory },
    },
    join(directory, 'leadsync.yaml'),
  );
}

interface Upload {
  emails: string[];
}

/**
 * SmartLead's add-leads endpoint: the first `serverErrors` calls are answered 503; then a batch holding a refused
 * lead is answered 422; the rest are added, or blocked.
 */
function smartLeadTransport(
  refused: ReadonlySet<string>,
  blocked: ReadonlySet<string>,
  uploads: Upload[],
  serverErrors = 0,
  rateLimitedCalls: ReadonlySet<number> = new Set(),
): Transport {
  let calls = 0;
  return async (request) => {
    const body = JSON.parse(String(request.body)) as { lead_list: { email: string }[] };
    const emails = body.lead_list.map((lead) => lead.email);
    if (rateLimitedCalls.has(++calls)) {
      // Refused for rate: nothing of the batch was added.
      const error = { message: 'Rate limit exceeded' };
      return new Response(JSON.stringify(error), { status: 429, headers: { 'Retry-After': '1' } });
    }
    uploads.push({ emails });
    if (uploads.length <= serverErrors) return new Response('upstream unavailable', { status: 503 });
    if (emails.some((email) => refused.has(email))) {
      const error = { code: 'VALIDATION_ERROR', message: 'lead validation failed' };
      return new Response(JSON.stringify({ error }), { status: 422 });
    }
    const blockCount = emails.filter((email) => blocked.has(email)).length;
    const answer = {
      ok: true,
      upload_count: emails.length - blockCount,
      total_leads: emails.length,
      already_added_to_campaign: 0,
      duplicate_count: 0,
      invalid_email_count: 0,
      invalid_emails: [],
      unsubscribed_leads: [],
      block_count: blockCount,
      bounce_count: 0,
    };
    return new Response(JSON.stringify(answer), { status: 200 });
  };
}

const silent: Logger = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'push-chunk-refusals-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function runChunk(
  rows: number,
  vendor: {
    refused?: ReadonlySet<string>;
    blocked?: ReadonlySet<string>;
    serverErrors?: number;
    /** Which calls, counting from 1, the vendor refuses for rate. */
    rateLimitedCalls?: ReadonlySet<number>;
  },
  rowsPerCall = 400,
): Promise<{ result: ChunkResult; uploads: Upload[]; report: string; rateLimitReports: unknown[] }> {
  const csv = join(directory, 'leads.csv');
  await writeFile(csv, ['email', ...Array.from({ length: rows }, (_, i) => `lead${i + 1}@acme.com`)].join('\n') + '\n');
  const source = { kind: 'csv' as const, path: csv };
  const config = configIn(directory);
  const opened = await openSource(source, { boundary: config.boundary });
  const [chunk] = (await opened.scan(START, [rows]).finally(() => opened.close?.())).chunks;
  if (!chunk) throw new Error('the CSV gave no chunk');
  const uploads: Upload[] = [];
  const rateLimitReports: unknown[] = [];
  const context = new ActivityContext({
    config,
    // The sync hears of a refusal for rate by signal (the governor from the call pacer, not under test here).
    client: {
      workflow: {
        getHandle: (workflowId: string) => ({
          signal: async (signal: { name: string }, arg: unknown) =>
            void rateLimitReports.push([workflowId, signal.name, arg]),
        }),
      },
    } as unknown as Client,
    workflowTaskQueue: 'unused',
    vendors: VENDORS,
    env: { SMARTLEAD_API_KEY: 'sl-key' },
    transport: smartLeadTransport(
      vendor.refused ?? new Set(),
      vendor.blocked ?? new Set(),
      uploads,
      vendor.serverErrors,
      vendor.rateLimitedCalls,
    ),
  });
  // Every slot granted at once: what is under test is how the chunk spends its calls, not their pace.
  Object.defineProperty(context, 'governor', {
    value: { paced: (...args: unknown[]) => (args[3] as () => unknown)() },
  });
  const task: ChunkTask = {
    syncId: 'refusals',
    account: 'outbound',
    lane: 'general',
    records: 'leads',
    source,
    mapping: undefined,
    target: { campaignId: 42 },
    share: 1,
    rowsPerCall,
    chunk,
  };
  const activity = new Context(
    { attempt: 1, taskQueue: laneTaskQueue('smartlead', 'outbound', 'general') } as Info,
    new Promise<never>(() => {}),
    new AbortController().signal,
    () => {},
    undefined,
    silent,
    noopMetricMeter,
    {},
  );
  const result = await asyncLocalStorage.run(activity, () => pushChunk(context, task));
  const report = await readFile(join(directory, 'refusals', `${chunk.firstRow}.ndjson`), 'utf8').catch(() => '');
  return { result, uploads, report, rateLimitReports };
}

const email = (row: number) => `lead${row}@acme.com`;

describe('pushChunk and what the vendor refuses', () => {
  it('counts rows refused but not named apart from the accepted, with one report line per reason and no row', async () => {
    const blocked = new Set([3, 17, 250].map(email));

    const { result, report } = await runChunk(400, { blocked });

    expect(result).toMatchObject({ rows: 400, accepted: 397, rejected: 0, unattributed: 3, calls: 1 });
    const lines = report
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toHaveProperty('row');
    expect(lines[0]!.reason).toMatch(/^3 rows refused by the vendor, not named: .*block/i);
  });

  it('splits a refused batch down to the few refused leads, each rejected alone', async () => {
    const refused = new Set([7, 301].map(email));

    const { result, uploads, report } = await runChunk(400, { refused });

    expect(result).toMatchObject({ rows: 400, accepted: 398, rejected: 2 });
    const rejects = report
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { row: number; reason: string });
    expect(rejects.map((reject) => reject.row)).toEqual([7, 301]);
    expect(rejects.every((reject) => reject.reason.includes('lead validation failed'))).toBe(true);
    // Finding 2 of 400 by halving: well within the chunk's budget for splitting.
    expect(uploads.length - 1).toBeLessThanOrEqual(REFUSAL_SPLIT_CALLS);
  });

  it('stops splitting a batch refused in every part once the chunk spent its budget, and rejects the rest whole', async () => {
    const refused = new Set(Array.from({ length: 400 }, (_, i) => email(i + 1)));

    const { result, uploads, report } = await runChunk(400, { refused });

    // Halving every part would take 2n-1 = 799 calls; the budget bounds the extra calls, whatever n is.
    expect(uploads.length).toBeLessThanOrEqual(1 + REFUSAL_SPLIT_CALLS);
    expect(result).toMatchObject({ rows: 400, accepted: 0, rejected: 400 });
    expect(result.calls).toBe(uploads.length);
    const reasons = report
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { reason: string }).reason);
    expect(reasons).toHaveLength(400);
    expect(reasons.every((reason) => reason.includes('lead validation failed'))).toBe(true);
    expect(reasons.some((reason) => reason.includes('not split further'))).toBe(true);
  });
});

describe('pushChunk and vendor faults', () => {
  it('sends a call again in place after a transient fault, counting the retry', async () => {
    const { result, uploads } = await runChunk(400, { serverErrors: 1 });

    expect(uploads.map((upload) => upload.emails.length)).toEqual([400, 400]);
    expect(result).toMatchObject({ rows: 400, accepted: 400, rejected: 0, calls: 2, retries: 1 });
  });

  it('halves a batch still failing after three attempts, and lands both halves', async () => {
    const { result, uploads } = await runChunk(400, { serverErrors: 3 });

    expect(uploads.map((upload) => upload.emails.length)).toEqual([400, 400, 400, 200, 200]);
    // Two calls again in place, and the split: each a retry of rows that may have landed.
    expect(result).toMatchObject({ rows: 400, accepted: 400, rejected: 0, calls: 5, retries: 3 });
  });
});

describe('pushChunk and a rate limit', () => {
  it('sends a call refused for rate again alone, after the time the vendor named, and no landed row twice', async () => {
    const refusedAt = Date.now();
    const { result, uploads, rateLimitReports } = await runChunk(300, { rateLimitedCalls: new Set([2]) }, 100);

    const sent = uploads.flatMap((upload) => upload.emails);
    expect(new Set(sent).size).toBe(300);
    expect(sent).toHaveLength(300);
    expect(result).toMatchObject({ rows: 300, accepted: 300, rejected: 0, calls: 4, retries: 1 });
    expect(rateLimitReports).toEqual([['refusals', 'backoff', { lane: 'general', until: expect.any(Number) }]]);
    const { until } = (rateLimitReports[0] as [string, string, { until: number }])[2];
    expect(until - refusedAt).toBeGreaterThanOrEqual(1_000);
  });
});
