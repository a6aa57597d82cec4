import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../../../config/accounts.js';
import {
  startSmartLeadSimulator,
  type RunningSmartLeadSimulator,
  type SmartLeadSimulatorOptions,
} from '../../simulator/server.js';
import {
  AuthError,
  BatchTooLargeError,
  NotFoundError,
  RateLimitedError,
  TransientError,
  UnexpectedResponseError,
} from '../../../errors.js';
import { SmartLeadApi, smartLead, type SmartLeadLead } from '../../index.js';
import type { VendorRecord, VendorClient } from '../../../types.js';
import { keepAliveTransport, type Transport } from '../../../transport.js';
import { failure } from '../../../../../test/helpers/failure.js';

const API_KEY = 'sim-api-key-1';
const CAMPAIGN = 42;
/** Room enough that only the tests about rate limits meet one. */
const ROOMY = { windows: [{ limit: 100_000, seconds: 1 }] };

let simulator: RunningSmartLeadSimulator | undefined;

afterEach(async () => {
  await simulator?.stop();
  simulator = undefined;
});

async function start(options: Partial<SmartLeadSimulatorOptions> = {}) {
  simulator = await startSmartLeadSimulator({
    plan: ROOMY,
    apiKey: API_KEY,
    campaigns: [{ id: CAMPAIGN }],
    ...options,
  });
  return simulator;
}

function apiOf(sim: RunningSmartLeadSimulator, apiKey = API_KEY): SmartLeadApi {
  return new SmartLeadApi({ baseUrl: sim.baseUrl, apiKey, timeoutMs: 5_000, label: 'sim' });
}

/** The vendor client a sync uses, built from a config as a sync builds it. */
function vendorClientOf(sim: RunningSmartLeadSimulator): VendorClient {
  const config = parseConfig(
    {
      accounts: {
        sim: { vendor: 'smartlead', plan: 'standard', baseUrl: sim.baseUrl, credentials: { apiKeyEnv: 'SIM_KEY' } },
      },
    },
    'test-config.yaml',
  );
  return smartLead.connect(config.accounts.sim!, { apiKey: API_KEY }, { timeoutMs: 5_000 });
}

function lead(row: number, email = `lead${row}@example.com`): VendorRecord {
  return { row, email, fields: { first_name: `First${row}`, 'custom_fields.tier': 'gold' } };
}

function slLead(n: number): SmartLeadLead {
  return { email: `lead${n}@example.com`, first_name: `First${n}` };
}

describe('SmartLead simulator, driven by the real client', () => {
  it('passes the client behind a Cloudflare banning default agents, and says what to do when the agent is rewritten', async () => {
    const sim = await start({ bannedUserAgents: ['node', 'python-urllib', ''] });
    // A proxy between the worker and SmartLead that puts back an HTTP library's default agent.
    const rewriting: Transport = (request) =>
      keepAliveTransport({ ...request, headers: { ...request.headers, 'user-agent': 'node' } });
    const rewritten = new SmartLeadApi({
      baseUrl: sim.baseUrl,
      apiKey: API_KEY,
      timeoutMs: 5_000,
      label: 'sim',
      transport: rewriting,
    });

    await vendorClientOf(sim).verify({ campaignId: CAMPAIGN });
    const err = await failure(rewritten.getCampaign(CAMPAIGN));

    expect(err).toBeInstanceOf(UnexpectedResponseError);
    expect(err.message).toMatch(/not a bad API key.*User-Agent/);
    expect(sim.report().requests.map((r) => r.status)).toEqual([200, 403]);
  });

  it('counts every lead write, a resend of a lead it already holds included', async () => {
    const sim = await start();
    const client = vendorClientOf(sim);

    await client.upsertLeads('general', [lead(1), lead(2)], { campaignId: CAMPAIGN });
    await client.upsertLeads('general', [lead(2), lead(3)], { campaignId: CAMPAIGN });

    expect(sim.leads(CAMPAIGN)).toHaveLength(3);
    const writes = sim.writes();
    expect({ total: writes.total, resent: writes.resent }).toEqual({ total: 4, resent: 1 });
    expect(writes.perLead.get(`${CAMPAIGN}:lead2@example.com`)).toBe(2);
    expect(sim.rowWrites('lead').get(`${CAMPAIGN}:lead2@example.com`)).toEqual([0, 1]);
    const admin = await fetch(`${sim.adminUrl}/writes`);
    expect(await admin.json()).toEqual({ total: 4, resent: 1 });
  });

  it('counts a refused lead as written, and no lead of an upload refused whole', async () => {
    const sim = await start({ unsubscribedEmails: ['lead2@example.com'], invalidLeadEmails: ['lead9@example.com'] });
    const client = vendorClientOf(sim);

    await client.upsertLeads('general', [lead(1), lead(2), lead(3, 'not-an-email')], { campaignId: CAMPAIGN });
    await failure(client.upsertLeads('general', [lead(4), lead(9)], { campaignId: CAMPAIGN }));

    expect(sim.leads(CAMPAIGN)).toHaveLength(1);
    expect(sim.writes().perLead).toEqual(
      new Map([
        [`${CAMPAIGN}:lead1@example.com`, 1],
        [`${CAMPAIGN}:lead2@example.com`, 1],
        [`${CAMPAIGN}:not-an-email`, 1],
      ]),
    );
  });

  it('answers queued uploads success:false writing nothing, which the client fails with the message', async () => {
    const sim = await start();
    const client = vendorClientOf(sim);
    await fetch(`${sim.adminUrl}/upload-failures`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ count: 1, message: 'Try later' }),
    });

    const err = await failure(client.upsertLeads('general', [lead(1), lead(2)], { campaignId: CAMPAIGN }));
    const next = await client.upsertLeads('general', [lead(1), lead(2)], { campaignId: CAMPAIGN });

    expect(err).toBeInstanceOf(UnexpectedResponseError);
    expect(err.message).toContain('Try later');
    expect(next.outcomes.map((o) => o.status)).toEqual(['accepted', 'accepted']);
    expect(sim.writes().total).toBe(2);
  });

  it('refuses a wrong or missing api_key with 401', async () => {
    const sim = await start();

    expect(await failure(apiOf(sim, 'wrong-key').listCampaigns())).toBeInstanceOf(AuthError);
    expect((await fetch(`${sim.baseUrl}/campaigns/`)).status).toBe(401);
    expect(sim.report().requests.map((r) => r.outcome)).toEqual(['auth', 'auth']);
  });

  it('lists campaigns, finds one, and answers 404 for an unknown one', async () => {
    const sim = await start({ campaigns: [{ id: 7, name: 'Outbound' }, { id: CAMPAIGN }] });
    const api = apiOf(sim);

    expect((await api.listCampaigns()).data.map((c) => c.id)).toEqual([7, CAMPAIGN]);
    expect((await api.getCampaign(7)).data).toMatchObject({ id: 7, name: 'Outbound', status: 'ACTIVE' });
    expect(await failure(api.getCampaign(8))).toBeInstanceOf(NotFoundError);
    expect(sim.report().requests.at(-1)).toMatchObject({ status: 404, outcome: 'not-found' });
  });

  it('adds leads once per campaign: invalid emails rejected by name, repeats and re-uploads accepted', async () => {
    const sim = await start();
    const client = vendorClientOf(sim);
    const target = { campaignId: CAMPAIGN };

    const first = await client.upsertLeads(
      'general',
      [lead(1), lead(2, 'not-an-email'), lead(3), lead(4, 'LEAD1@example.com')],
      target,
    );
    const again = await client.upsertLeads('general', [lead(1), lead(3), lead(5)], target);

    expect(first.outcomes.map((o) => o.status)).toEqual(['accepted', 'rejected', 'accepted', 'accepted']);
    expect(first.outcomes[1]).toMatchObject({ field: 'email' });
    expect(again.outcomes.map((o) => o.status)).toEqual(['accepted', 'accepted', 'accepted']);
    expect(sim.leads(CAMPAIGN).map((l) => l.email)).toEqual([
      'lead1@example.com',
      'lead3@example.com',
      'lead5@example.com',
    ]);
    expect(sim.leads(CAMPAIGN)[0]).toMatchObject({ fields: { first_name: 'First1' }, customFields: { tier: 'gold' } });
    expect(sim.report()).toMatchObject({
      leads: { count: 3, created: 3 },
      duplicates: 0,
      totals: { rowsAccepted: 3, rowsRejected: 1 },
    });
  });

  it('answers the classic counts in full', async () => {
    const sim = await start();

    const response = await fetch(`${sim.baseUrl}/campaigns/${CAMPAIGN}/leads?api_key=${API_KEY}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        lead_list: [slLead(1), slLead(1), { email: 'bad' }],
        settings: { ignore_global_block_list: true },
      }),
    });

    expect(await response.json()).toEqual({
      ok: true,
      upload_count: 1,
      total_leads: 3,
      already_added_to_campaign: 0,
      duplicate_count: 1,
      invalid_email_count: 1,
      invalid_emails: ['bad'],
      unsubscribed_leads: [],
      block_count: 0,
      bounce_count: 0,
      is_lead_limit_exhausted: false,
      lead_import_stopped_count: 0,
    });
  });

  it('gives the newer answer shape when asked, which the client reads the same way', async () => {
    const sim = await start({ addLeadsAnswer: 'new' });
    const client = vendorClientOf(sim);
    await client.upsertLeads('general', [lead(1)], { campaignId: CAMPAIGN });

    const result = await client.upsertLeads(
      'general',
      [lead(1), lead(2), lead(3, 'nope'), lead(4, 'lead2@example.com')],
      {
        campaignId: CAMPAIGN,
      },
    );

    expect(result.outcomes.map((o) => o.status)).toEqual(['accepted', 'accepted', 'rejected', 'accepted']);
    expect(sim.leads(CAMPAIGN)).toHaveLength(2);
  });

  it('skips blocked leads unless the settings ignore the block list, counted as refused but not named', async () => {
    const sim = await start({ blockedEmails: ['lead2@example.com'] });
    const client = vendorClientOf(sim);

    const blocked = await client.upsertLeads('general', [lead(1), lead(2)], { campaignId: CAMPAIGN });
    const allowed = await client.upsertLeads('general', [lead(2)], {
      campaignId: CAMPAIGN,
      settings: { ignore_global_block_list: true },
    });

    expect(blocked.outcomes.map((o) => o.status)).toEqual(['accepted', 'accepted']);
    expect(blocked.unattributed).toEqual([{ count: 1, reason: 'on the global block list' }]);
    expect(allowed.outcomes).toEqual([{ row: 2, status: 'accepted' }]);
    expect(allowed.unattributed).toBeUndefined();
    expect(sim.leads(CAMPAIGN).map((l) => l.email)).toEqual(['lead1@example.com', 'lead2@example.com']);
  });

  it('refuses more than 400 leads with 422, which the client reads as batch too large', async () => {
    const sim = await start();
    const leads = Array.from({ length: 401 }, (_, i) => slLead(i));

    const err = await failure(apiOf(sim).addLeadsToCampaign(CAMPAIGN, leads));

    expect(err).toBeInstanceOf(BatchTooLargeError);
    expect((err as BatchTooLargeError).maxRows).toBe(400);
    expect(sim.report().requests[0]).toMatchObject({ status: 422, outcome: 'invalid' });
    expect((await apiOf(sim).addLeadsToCampaign(CAMPAIGN, leads.slice(0, 400))).data.addedCount).toBe(400);
  });

  it('pages through a campaign, at most 100 leads a page', async () => {
    const sim = await start();
    const api = apiOf(sim);
    await api.addLeadsToCampaign(
      CAMPAIGN,
      Array.from({ length: 150 }, (_, i) => slLead(i)),
    );

    const first = await api.listCampaignLeads(CAMPAIGN);
    const second = await api.listCampaignLeads(CAMPAIGN, { offset: 100, limit: 100 });
    const tooLarge = await fetch(`${sim.baseUrl}/campaigns/${CAMPAIGN}/leads?limit=101&api_key=${API_KEY}`);

    expect(first.data).toMatchObject({ total_leads: 150, offset: 0, limit: 100 });
    expect(first.data.data).toHaveLength(100);
    expect(second.data.data.map((l) => l.lead.email)).toEqual(
      Array.from({ length: 50 }, (_, i) => `lead${i + 100}@example.com`),
    );
    expect(tooLarge.status).toBe(400);
  });

  it('updates a lead by id and reports campaign analytics', async () => {
    const sim = await start();
    const api = apiOf(sim);
    await api.addLeadsToCampaign(CAMPAIGN, [slLead(1)]);
    const leadId = sim.leads(CAMPAIGN)[0]!.leadId;

    await api.updateLead(CAMPAIGN, leadId, { email: 'lead1@example.com', last_name: 'Lovelace' });
    const missing = await failure(api.updateLead(CAMPAIGN, leadId + 1, slLead(2)));
    const analytics = await api.campaignAnalytics(CAMPAIGN);

    expect(sim.leads(CAMPAIGN)[0]!.fields).toEqual({ first_name: 'First1', last_name: 'Lovelace' });
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(analytics.data).toMatchObject({ id: CAMPAIGN, total_count: 1, sent_count: 0 });
    expect(sim.report().leads).toEqual({ count: 1, created: 1, updated: 1 });
  });
});

describe('SmartLead simulator rate limits', () => {
  it('reports the quota on every answer and refuses over the limit with 429 and Retry-After', async () => {
    const sim = await start({ plan: { windows: [{ limit: 3, seconds: 60 }] } });
    const api = apiOf(sim);

    const remaining = [];
    for (let i = 0; i < 3; i += 1) remaining.push((await api.listCampaigns()).quota?.remaining);
    const err = await failure(api.listCampaigns());
    const raw = await fetch(`${sim.baseUrl}/campaigns/?api_key=${API_KEY}`);

    expect(remaining).toEqual([2, 1, 0]);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAfterMs).toBeGreaterThan(0);
    expect((err as RateLimitedError).retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(raw.status).toBe(429);
    expect(Number(raw.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(raw.headers.get('x-ratelimit-limit')).toBe('3');
    expect(raw.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(Number(raw.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
    expect(await raw.json()).toMatchObject({ error: { code: 'RATE_LIMIT_EXCEEDED', retry_after: expect.any(Number) } });
    expect(sim.report().totals).toMatchObject({ requests: 5, rateLimited: 2 });
  });

  it('enforces the per-second, per-minute and per-hour windows at once', async () => {
    const sim = await start({
      plan: {
        windows: [
          { limit: 100, seconds: 1 },
          { limit: 4, seconds: 60 },
          { limit: 1_000, seconds: 3_600 },
        ],
      },
    });
    const api = apiOf(sim);
    const limits = [];
    for (let i = 0; i < 4; i += 1) limits.push((await api.getCampaign(CAMPAIGN)).quota?.limit);

    const err = await failure(api.getCampaign(CAMPAIGN));

    // The minute window binds: fewest requests left of the three.
    expect(limits).toEqual([4, 4, 4, 4]);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(sim.report().totals.rateLimited).toBe(1);
  });

  it('counts every endpoint against the same key, refused or not found alike', async () => {
    const sim = await start({ plan: { windows: [{ limit: 10, seconds: 60 }] } });
    const api = apiOf(sim);
    await api.listCampaigns();
    await failure(api.getCampaign(999));
    for (let i = 0; i < 8; i += 1) await api.campaignAnalytics(CAMPAIGN);

    expect(await failure(api.addLeadsToCampaign(CAMPAIGN, [slLead(1)]))).toBeInstanceOf(RateLimitedError);
    expect(sim.leads(CAMPAIGN)).toHaveLength(0);
  });

  it('shrinks every window by the time scale and tells real time in Retry-After', async () => {
    // A simulated hour of two calls runs in ten real seconds.
    const sim = await start({ plan: { windows: [{ limit: 2, seconds: 3_600 }] }, timeScale: 360 });
    const api = apiOf(sim);
    await api.listCampaigns();
    await api.listCampaigns();

    const raw = await fetch(`${sim.baseUrl}/campaigns/?api_key=${API_KEY}`);

    expect(raw.status).toBe(429);
    const retryAfter = Number(raw.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(10);
  });

  it('lets an invisible second client spend from the same key', async () => {
    const sim = await start({ plan: { windows: [{ limit: 50, seconds: 1 }] }, sharedShare: 0.5 });

    await vi.waitFor(() => expect(sim.report({ requests: false }).sharedKey!.spent).toBeGreaterThan(0), {
      timeout: 5_000,
    });
    expect(sim.report().requests).toHaveLength(0);
  });
});

describe('SmartLead simulator faults and admin', () => {
  it('stores an upload whose answer was lost, so the retry finds the leads already added', async () => {
    const sim = await start({ faults: { lostResponseRate: 1 } });
    const api = apiOf(sim);

    expect(await failure(api.addLeadsToCampaign(CAMPAIGN, [slLead(1), slLead(2)]))).toBeInstanceOf(TransientError);
    expect(sim.leads(CAMPAIGN)).toHaveLength(2);
    sim.setFaults({});
    const retry = await fetch(`${sim.baseUrl}/campaigns/${CAMPAIGN}/leads?api_key=${API_KEY}`, {
      method: 'POST',
      body: JSON.stringify({ lead_list: [slLead(1), slLead(2)] }),
    });

    expect(await retry.json()).toMatchObject({ upload_count: 0, already_added_to_campaign: 2 });
    expect(sim.report()).toMatchObject({ leads: { count: 2 }, totals: { faults: 1, rowsAccepted: 2 } });
  });

  it('fails with 500s that write nothing', async () => {
    const sim = await start({ faults: { errorRate: 1 } });

    expect(await failure(apiOf(sim).addLeadsToCampaign(CAMPAIGN, [slLead(1)]))).toBeInstanceOf(TransientError);
    expect(sim.leads()).toHaveLength(0);
    expect(sim.report().requests[0]).toMatchObject({ status: 500, outcome: 'fault-500' });
  });

  it('creates campaigns through the admin API and resets to the campaigns it started with', async () => {
    const sim = await start();
    const created = await fetch(`${sim.adminUrl}/campaigns`, {
      method: 'POST',
      body: JSON.stringify({ name: 'Fresh' }),
    });
    const campaign = (await created.json()) as { id: number };
    await apiOf(sim).addLeadsToCampaign(campaign.id, [slLead(1)]);

    const report = (await (await fetch(`${sim.adminUrl}/report?requests=false`)).json()) as {
      requests: unknown[];
      leads: { count: number };
    };
    await fetch(`${sim.adminUrl}/reset`, { method: 'POST' });

    expect(created.status).toBe(201);
    expect(campaign.id).toBe(CAMPAIGN + 1);
    expect(report).toMatchObject({ requests: [], leads: { count: 1 } });
    expect(sim.campaigns().map((c) => c.id)).toEqual([CAMPAIGN]);
    expect(sim.leads()).toHaveLength(0);
  });
});
