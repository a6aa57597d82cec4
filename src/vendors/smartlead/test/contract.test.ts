import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../config/accounts.js';
import { loadCorpus, type CorpusExchange } from '../../corpus.js';
import { BatchRefusedError, type BatchTooLargeError, type RateLimitedError, VendorError } from '../../errors.js';
import { smartLead, smartLeadApi } from '../index.js';
import type { CallResult, VendorRecord } from '../../types.js';

/**
 * Every exchange of the SmartLead corpus, answered to the real client by a fetch that gives the recorded answer: what
 * the client makes of it must be what the exchange expects. The simulator is held to the same files elsewhere.
 */
const CORPUS = loadCorpus(join(import.meta.dirname, '../corpus'));
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

/** A fetch that checks the client asked what the exchange records, then answers what it records. */
function recordedFetch(exchange: CorpusExchange): typeof fetch {
  const fake = async (input: URL | string, init?: RequestInit) => {
    const url = new URL(String(input));
    expect(init?.method ?? 'GET').toBe(exchange.request.method);
    expect(url.pathname).toBe(new URL(`${BASE_URL}${exchange.request.path}`).pathname);
    const { status, headers, body } = exchange.response;
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers });
  };
  return fake as typeof fetch;
}

const ADD_LEADS = /^\/campaigns\/(\d+)\/leads$/;
const CAMPAIGN = /^\/campaigns\/(\d+)$/;
const LEADS_PAGE = /^\/campaigns\/(\d+)\/leads\?/;
const ANALYTICS = /^\/campaigns\/(\d+)\/analytics$/;

/** Sends the exchange's request through the client method that makes it. */
async function replay(exchange: CorpusExchange): Promise<{ result?: unknown; error?: unknown }> {
  const options = { timeoutMs: 5_000, fetch: recordedFetch(exchange) };
  const api = smartLeadApi(account, { apiKey: API_KEY }, options);
  const { method, path } = exchange.request;
  const campaign = (pattern: RegExp) => Number(pattern.exec(path)?.[1]);
  try {
    if (method === 'POST' && ADD_LEADS.test(path)) {
      const client = smartLead.connect(account, { apiKey: API_KEY }, options);
      return { result: await client.upsertLeads('general', leadsOf(exchange), { campaignId: campaign(ADD_LEADS) }) };
    }
    if (method === 'GET' && CAMPAIGN.test(path)) return { result: (await api.getCampaign(campaign(CAMPAIGN))).data };
    if (method === 'GET' && LEADS_PAGE.test(path)) {
      return { result: (await api.listCampaignLeads(campaign(LEADS_PAGE))).data };
    }
    if (method === 'GET' && ANALYTICS.test(path)) {
      return { result: (await api.campaignAnalytics(campaign(ANALYTICS))).data };
    }
  } catch (error) {
    return { error };
  }
  throw new Error(`no client method sends ${method} ${path}`);
}

function leadsOf(exchange: CorpusExchange): VendorRecord[] {
  const body = exchange.request.body as { lead_list: { email: string }[] };
  return body.lead_list.map((lead, i) => ({ row: i + 1, email: lead.email, fields: { email: lead.email } }));
}

describe('the SmartLead client against its corpus', () => {
  it('has a corpus covering success, refusals, limits, auth and lookups', () => {
    expect(CORPUS.size).toBeGreaterThanOrEqual(20);
  });

  it('says, for every exchange inferred or assumed, what it rests on', () => {
    const silent = ['inferred', 'assumed'];
    const withoutNote = [...CORPUS].filter(([, e]) => silent.includes(e.standing) && !e.note).map(([name]) => name);

    expect(withoutNote).toEqual([]);
  });

  it.each([...CORPUS])('reads %s as the corpus expects', async (_name, exchange) => {
    const { result, error } = await replay(exchange);
    const { expect: expected } = exchange;

    if (expected.failure) {
      expect(error).toBeInstanceOf(VendorError);
      const failure = error as VendorError;
      expect(failure.kind).toBe(expected.failure);
      if (expected.message) expect(failure.message).toContain(expected.message);
      if (expected.retryAfterMs !== undefined) {
        expect((failure as RateLimitedError).retryAfterMs).toBe(expected.retryAfterMs);
      }
      if (expected.refusedLimit !== undefined) {
        expect((failure as RateLimitedError).refusedLimit).toBe(expected.refusedLimit);
      }
      if (expected.maxRows !== undefined) expect((failure as BatchTooLargeError).maxRows).toBe(expected.maxRows);
      if (expected.split !== undefined) expect(failure instanceof BatchRefusedError).toBe(expected.split);
      // A credential never travels into an error text.
      expect(failure.message).not.toContain(API_KEY);
      return;
    }

    expect(error).toBeUndefined();
    if (expected.rows) {
      const call = result as CallResult;
      expect(call.outcomes.map((o) => o.status)).toEqual(expected.rows);
      expect(call.unattributed ?? []).toEqual(expected.unattributed ?? []);
      if (expected.reason) {
        for (const outcome of call.outcomes.filter((o) => o.status === 'rejected')) {
          expect(outcome).toMatchObject({ reason: expect.stringContaining(expected.reason as string) });
        }
      }
      // Every row sent is accounted for: landed, rejected by name, or among the refused but not named.
      const unnamed = (call.unattributed ?? []).reduce((sum, r) => sum + r.count, 0);
      expect(call.outcomes.filter((o) => o.status === 'accepted').length).toBeGreaterThanOrEqual(unnamed);
    }
    if (expected.campaignId !== undefined) expect(result).toMatchObject({ id: expected.campaignId });
    if (expected.totalLeads !== undefined) expect(result).toMatchObject({ total_leads: expected.totalLeads });
  });
});
