import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  startSmartLeadSimulator,
  type RunningSmartLeadSimulator,
  type SmartLeadSimulatorOptions,
} from '../simulator/server.js';
import { loadCorpus, type CorpusExchange } from '../../corpus.js';

/**
 * The SmartLead simulator held to the corpus: for every exchange it can give, it is brought to that answer through
 * its state and admin hooks only, then asked the exchange's request. Its answer must have the recorded shape: the
 * status, every body key with its type (null matches anything: a field SmartLead leaves empty), and the headers.
 */
const CORPUS = loadCorpus(join(import.meta.dirname, '../corpus'));
const API_KEY = 'contract-key';
const CAMPAIGN = 42;

interface Arrangement {
  options?: Partial<SmartLeadSimulatorOptions>;
  /** What happened before the request: earlier uploads, a window filled, a failure queued. */
  before?(sim: RunningSmartLeadSimulator): Promise<unknown> | void;
  apiKey?: string;
  userAgent?: string;
}

/** How each exchange comes about in the simulator. An exchange marked simulated without one fails the test. */
const ARRANGEMENTS: Record<string, Arrangement> = {
  'add-leads-classic': {
    options: { blockedEmails: ['dee@acme.com'], unsubscribedEmails: ['cy@acme.com'] },
    before: (sim) => upload(sim, ['eve@acme.com']),
  },
  'add-leads-classic-counts': {
    options: { addLeadsAnswer: 'classic-counts', unsubscribedEmails: ['bob@acme.com'] },
    before: (sim) => upload(sim, ['cy@acme.com']),
  },
  'add-leads-newer': {
    options: { addLeadsAnswer: 'new', blockedEmails: ['bob@acme.com'] },
    before: (sim) => upload(sim, ['cy@acme.com']),
  },
  'add-leads-over-400': {},
  'add-leads-validation-failed': { options: { invalidLeadEmails: ['refused@acme.com'] } },
  'add-leads-validation-failed-one-lead': { options: { invalidLeadEmails: ['refused@acme.com'] } },
  'add-leads-success-false': { before: (sim) => sim.failUploads(1) },
  'rate-limited': {
    options: { plan: { windows: [{ limit: 1, seconds: 30 }] } },
    before: (sim) => send(sim, 'GET', `/campaigns/${CAMPAIGN}`),
  },
  'analytics-rate-limited-plain-text': {
    options: { analyticsWindow: { limit: 1, seconds: 60 } },
    before: (sim) => send(sim, 'GET', `/campaigns/${CAMPAIGN}/analytics`),
  },
  'unauthorized-message': { options: { unauthorizedAnswer: 'message' }, apiKey: 'not-the-key' },
  'unauthorized-error': { apiKey: 'not-the-key' },
  'cloudflare-1010-text': { options: { bannedUserAgents: ['python-urllib'] }, userAgent: 'Python-urllib/3.12' },
  'campaign-found': {},
  'campaign-not-found': {},
  'campaign-leads-page': {
    before: (sim) =>
      send(sim, 'POST', `/campaigns/${CAMPAIGN}/leads`, {
        lead_list: [
          {
            email: 'john@example.com',
            first_name: 'John',
            last_name: 'Doe',
            phone_number: '+1234567890',
            company_name: 'Acme Corp',
            website: 'https://acme.com',
            location: 'San Francisco, CA',
            linkedin_profile: 'https://linkedin.com/in/johndoe',
            company_url: 'https://acme.com',
            custom_fields: { job_title: 'CEO' },
          },
        ],
      }),
  },
};

const simulated = [...CORPUS].filter(([, exchange]) => exchange.simulated);

describe('the SmartLead simulator against the corpus', () => {
  let sim: RunningSmartLeadSimulator | undefined;

  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });

  it('gives most of the corpus; the rest only a real vendor or a fault gives', () => {
    expect(simulated.length).toBeGreaterThanOrEqual(CORPUS.size / 2);
  });

  it.each(simulated)('answers %s in the recorded shape', async (name, exchange) => {
    const arrangement = ARRANGEMENTS[name];
    if (!arrangement) throw new Error(`${name} is marked simulated, but nothing here makes the simulator give it`);
    sim = await startSmartLeadSimulator({
      plan: 'standard',
      apiKey: API_KEY,
      campaigns: [{ id: CAMPAIGN, name: 'contract' }],
      ...arrangement.options,
    });
    await arrangement.before?.(sim);

    const answer = await send(sim, exchange.request.method, exchange.request.path, exchange.request.body, arrangement);

    expect(answer.status).toBe(exchange.response.status);
    expect(shapeDifferences(exchange.response.body, answer.body)).toEqual([]);
    for (const header of Object.keys(exchange.response.headers ?? {})) {
      expect(answer.headers.has(header), `header ${header}`).toBe(true);
    }
  });
});

async function upload(sim: RunningSmartLeadSimulator, emails: string[]): Promise<void> {
  const answer = await send(sim, 'POST', `/campaigns/${CAMPAIGN}/leads`, {
    lead_list: emails.map((email) => ({ email })),
  });
  expect(answer.status).toBe(200);
}

/** One request as a client would make it: the key in the query, a User-Agent of its own. */
async function send(
  sim: RunningSmartLeadSimulator,
  method: CorpusExchange['request']['method'],
  path: string,
  body?: unknown,
  { apiKey = API_KEY, userAgent = 'leadsync-contract-test' }: Arrangement = {},
): Promise<{ status: number; headers: Headers; body: unknown }> {
  const url = new URL(`${sim.baseUrl}${path}`);
  url.searchParams.set('api_key', apiKey);
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', 'user-agent': userAgent },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const isJson = (response.headers.get('content-type') ?? '').includes('json');
  return { status: response.status, headers: response.headers, body: isJson ? (JSON.parse(text) as unknown) : text };
}

/** Where two bodies differ in shape: keys present in one only, or values of different types. */
function shapeDifferences(recorded: unknown, given: unknown, path = '(body)'): string[] {
  if (recorded === null || given === null) return [];
  if (Array.isArray(recorded) || Array.isArray(given)) {
    if (!Array.isArray(recorded) || !Array.isArray(given)) return [`${path}: array in one answer only`];
    if (recorded.length === 0 || given.length === 0) return [];
    return shapeDifferences(recorded[0], given[0], `${path}[0]`);
  }
  if (typeof recorded === 'object' && typeof given === 'object') {
    const a = recorded as Record<string, unknown>;
    const b = given as Record<string, unknown>;
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((key) => {
      if (!(key in a)) return [`${path}.${key}: only in the simulator's answer`];
      if (!(key in b)) return [`${path}.${key}: missing from the simulator's answer`];
      return shapeDifferences(a[key], b[key], `${path}.${key}`);
    });
  }
  return typeof recorded === typeof given ? [] : [`${path}: ${typeof recorded} recorded, ${typeof given} given`];
}
