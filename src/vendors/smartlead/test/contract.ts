import { join } from 'node:path';
import { expect } from 'vitest';
import type { SimulatedAnswer, VendorContract } from '../../../../test/contract/vendor-contract.js';
import { parseConfig } from '../../../config/accounts.js';
import type { CorpusExchange } from '../../corpus.js';
import type { Transport } from '../../transport.js';
import { BatchRefusedError, type RateLimitedError, type VendorError } from '../../errors.js';
import { smartLead, smartLeadApi } from '../index.js';
import type { CallResult, VendorRecord } from '../../types.js';
import {
  startSmartLeadSimulator,
  type RunningSmartLeadSimulator,
  type SmartLeadSimulatorOptions,
} from '../simulator/server.js';

const BASE_URL = 'https://server.smartlead.ai/api/v1';
const API_KEY = 'contract-key';
const account = parseConfig(
  {
    accounts: {
      outbound: { vendor: 'smartlead', plan: 'standard', baseUrl: BASE_URL, credentials: { apiKeyEnv: 'SL_KEY' } },
    },
  },
  'leadsync.yaml',
).accounts.outbound!;

const ADD_LEADS = /^\/campaigns\/(\d+)\/leads$/;
const CAMPAIGN_PATH = /^\/campaigns\/(\d+)$/;
const LEADS_PAGE = /^\/campaigns\/(\d+)\/leads\?/;
const ANALYTICS = /^\/campaigns\/(\d+)\/analytics$/;

/** Sends the exchange's request through the client method that makes it. */
async function replay(exchange: CorpusExchange, answer: Transport): Promise<unknown> {
  const options = { timeoutMs: 5_000, transport: answer };
  const api = smartLeadApi(account, { apiKey: API_KEY }, options);
  const { method, path } = exchange.request;
  const campaign = (pattern: RegExp) => Number(pattern.exec(path)?.[1]);
  if (method === 'POST' && ADD_LEADS.test(path)) {
    const client = smartLead.connect(account, { apiKey: API_KEY }, options);
    return client.upsertLeads('general', leadsOf(exchange), { campaignId: campaign(ADD_LEADS) });
  }
  if (method === 'GET' && CAMPAIGN_PATH.test(path)) return (await api.getCampaign(campaign(CAMPAIGN_PATH))).data;
  if (method === 'GET' && LEADS_PAGE.test(path)) return (await api.listCampaignLeads(campaign(LEADS_PAGE))).data;
  if (method === 'GET' && ANALYTICS.test(path)) return (await api.campaignAnalytics(campaign(ANALYTICS))).data;
  throw new Error(`no client method sends ${method} ${path}`);
}

function leadsOf(exchange: CorpusExchange): VendorRecord[] {
  const body = exchange.request.body as { lead_list: { email: string }[] };
  return body.lead_list.map((lead, i) => ({ row: i + 1, email: lead.email, fields: { email: lead.email } }));
}

/** SmartLead's part of the contract runner (test/contract/vendors.test.ts). */
export const contract: VendorContract = {
  corpus: join(import.meta.dirname, '../corpus'),
  url: (path) => new URL(`${BASE_URL}${path}`),
  replay,
  expectRead(read, { expect: expected }) {
    if (expected.failure) {
      const failure = (read as { err: VendorError }).err;
      if (expected.retryAfterMs !== undefined) {
        expect((failure as RateLimitedError).retryAfterMs).toBe(expected.retryAfterMs);
      }
      if (expected.refusedLimit !== undefined) {
        expect((failure as RateLimitedError).refusedLimit).toBe(expected.refusedLimit);
      }
      if (expected.split !== undefined) expect(failure instanceof BatchRefusedError).toBe(expected.split);
      // A credential never travels into an error text.
      expect(failure.message).not.toContain(API_KEY);
      return;
    }
    const { value } = read as { value: unknown };
    if (expected.rows) {
      const call = value as CallResult;
      expect(call.unattributed ?? []).toEqual(expected.unattributed ?? []);
      // Every row sent is accounted for: landed, rejected by name, or among the refused but not named.
      const unnamed = (call.unattributed ?? []).reduce((sum, r) => sum + r.count, 0);
      expect(call.outcomes.filter((o) => o.status === 'accepted').length).toBeGreaterThanOrEqual(unnamed);
    }
    if (expected.campaignId !== undefined) expect(value).toMatchObject({ id: expected.campaignId });
    if (expected.totalLeads !== undefined) expect(value).toMatchObject({ total_leads: expected.totalLeads });
  },
  simulator: {
    get arranged() {
      return Object.keys(ARRANGEMENTS);
    },
    async answer(name, exchange) {
      const arrangement = ARRANGEMENTS[name];
      if (!arrangement) throw new Error(`${name} is marked simulated, but nothing here makes the simulator give it`);
      const sim = await startSmartLeadSimulator({
        plan: 'standard',
        apiKey: API_KEY,
        campaigns: [{ id: CAMPAIGN, name: 'contract' }],
        ...arrangement.options,
      });
      try {
        await arrangement.before?.(sim);
        return await send(sim, exchange.request.method, exchange.request.path, exchange.request.body, arrangement);
      } finally {
        await sim.stop();
      }
    },
    shapeDifferences: (recorded, given) => shapeDifferences(recorded, given),
  },
};

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
): Promise<SimulatedAnswer> {
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
