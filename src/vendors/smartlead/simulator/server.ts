import { z } from 'zod';
import { ConfigError } from '../../../core/errors.js';
import { WindowSchema, findPlan, planNames, sustainedRate, type Window } from '../../../core/plans.js';
import { refuse } from '../../../simulation/admin.js';
import { FaultInjector, FaultOptionsSchema } from '../../../simulation/faults.js';
import type { SimRequest } from '../../../simulation/json-server.js';
import { parseOptions, serveSimulator } from '../../../simulation/serve.js';
import type { Endpoint, VendorProtocol } from '../../../simulation/pipeline.js';
import { RequestLog } from '../../../simulation/request-log.js';
import { SharedKeyTenant } from '../../../simulation/shared-tenant.js';
import type { ReportOptions, RunningSimulator, StateReport } from '../../../simulation/simulator.js';
import { SlidingWindowLimiter, bindingWindow, type WindowUsage } from '../../../simulation/sliding-window.js';
import { SmartLeadEndpoints, failure } from './endpoints.js';
import { CampaignSeedSchema, type CampaignSeed } from './schemas.js';
import { SmartLeadStore, type StoredCampaign, type StoredCampaignLead } from './store.js';
import { SMARTLEAD_PLANS } from '../plans.js';

/** Windows for a key whose limits differ from the published plans (Enterprise: custom). */
export interface SmartLeadCustomPlan {
  windows: Window[];
}

export const SmartLeadSimulatorOptionsSchema = z
  .object({
    /** A plan of the seed's table by name (`leadsync plans`), or custom windows. */
    plan: z.union([z.string().min(1), z.object({ windows: z.array(WindowSchema).min(1) }).strict()]),
    apiKey: z.string().min(1),
    /** 0 picks a free port. */
    port: z.number().int().min(0).max(65_535).default(0),
    host: z.string().min(1).default('127.0.0.1'),
    /**
     * Simulated seconds per real second: 60 runs a simulated hour in a real minute. Every window shrinks by the
     * factor, and Retry-After and X-RateLimit-Reset tell real time, so a client waits what it is told.
     */
    timeScale: z.number().positive().default(1),
    /** The share of every window another integration on the same key spends, unseen but by the rate limit. */
    sharedShare: z.number().min(0).lt(1).default(0),
    campaigns: z.array(CampaignSeedSchema).default([]),
    /** The account's global block list and unsubscribed addresses: uploads skip them unless settings say not to. */
    blockedEmails: z.array(z.string()).default([]),
    bouncedEmails: z.array(z.string()).default([]),
    unsubscribedEmails: z.array(z.string()).default([]),
    /** Addresses whose lead SmartLead's own validation refuses: an upload carrying one is answered 422. */
    invalidLeadEmails: z.array(z.string()).default([]),
    /** The add-leads answer: the classic counts (lists, or counts only), or the newer reference's skipped list. */
    addLeadsAnswer: z.enum(['classic', 'classic-counts', 'new']).default('classic'),
    /** The 401 body: `{error:{code:'UNAUTHORIZED'}}` (the authentication page) or `{message:'Invalid API Key'}`. */
    unauthorizedAnswer: z.enum(['error', 'message']).default('error'),
    /**
     * User-Agent prefixes (case-insensitive; '' for none at all) a Cloudflare in front refuses with 403 error 1010
     * before the key is read, as it does HTTP libraries' defaults.
     */
    bannedUserAgents: z.array(z.string()).default([]),
    /** The campaign analytics endpoint's own window, answered in plain text when full (seconds shrink by timeScale). */
    analyticsWindow: WindowSchema.default({ limit: 10, seconds: 60 }),
    faults: FaultOptionsSchema.optional(),
  })
  .strict();
export type SmartLeadSimulatorOptions = z.input<typeof SmartLeadSimulatorOptionsSchema>;

/**
 * Every lead an upload handled, per campaign and address, whether it was added, already there or refused: SmartLead
 * dedupes a re-upload, so the store alone cannot show that a retried chunk sent a lead again. A batch refused whole
 * (over-size, validation, `success:false`, a rate limit) handled no lead. `resent` is the writes beyond each lead's
 * first.
 */
export interface LeadWrites {
  total: number;
  resent: number;
  /** `<campaign id>:<address, lower case>` (campaignLeadKey) to the times it was sent. */
  perLead: ReadonlyMap<string, number>;
}

/** A SmartLead simulator, with its campaigns and leads for tests to compare against their source. */
export interface RunningSmartLeadSimulator extends RunningSimulator {
  /** Leads of one campaign in the order added, or of every campaign. */
  leads(campaignId?: number): readonly StoredCampaignLead[];
  campaigns(): StoredCampaign[];
  addCampaign(seed?: CampaignSeed): StoredCampaign;
  /** Every lead an upload handled, resends of leads SmartLead already holds included. */
  writes(): LeadWrites;
  /** Answers the next `count` uploads HTTP 200 `success:false` with `message`, writing nothing. */
  failUploads(count: number, message?: string): void;
}

/** Cloudflare's answer to a banned client signature: plain text, before the request reaches the API. */
export const CLOUDFLARE_1010_BODY = 'error code: 1010';
const UPLOAD_FAILURE_MESSAGE = 'Something went wrong. Please try again.';

const API_PREFIX = '/api/v1';
const CAMPAIGN_ROUTE = /^\/campaigns\/(\d+)(?:\/(leads|analytics)(?:\/(\d+))?)?\/?$/;

/**
 * Starts a SmartLead API v1 simulator: the campaign and lead endpoints leadsync uses, `api_key` auth, and the
 * per-key windows (per second, minute and hour at once) enforced strictly across all endpoints, with the
 * X-RateLimit-* headers on every answer and Retry-After on a 429.
 */
export async function startSmartLeadSimulator(options: SmartLeadSimulatorOptions): Promise<RunningSmartLeadSimulator> {
  const config = parseOptions(SmartLeadSimulatorOptionsSchema, options, 'SmartLead simulator options');
  const windows = planWindows(config.plan).map((w) => ({ limit: w.limit, seconds: w.seconds / config.timeScale }));
  const newStore = () => {
    const fresh = new SmartLeadStore();
    for (const seed of config.campaigns) fresh.addCampaign(seed);
    return fresh;
  };
  let store = newStore();
  let limiter = new SlidingWindowLimiter({ general: windows });
  const analyticsWindows = [
    { limit: config.analyticsWindow.limit, seconds: config.analyticsWindow.seconds / config.timeScale },
  ];
  let analyticsLimiter = new SlidingWindowLimiter({ analytics: analyticsWindows });
  const refusals = {
    invalidLeads: new Set(config.invalidLeadEmails.map((e) => e.trim().toLowerCase())),
    failures: { remaining: 0, message: UPLOAD_FAILURE_MESSAGE },
  };
  const faults = new FaultInjector(config.faults);
  const log = new RequestLog();
  const sharedKey = new SharedKeyTenant(() => limiter, ['general'], config.sharedShare * sustainedRate(windows));
  const endpoints = new SmartLeadEndpoints(
    () => store,
    {
      blocked: new Set(config.blockedEmails.map((e) => e.trim().toLowerCase())),
      bounced: new Set(config.bouncedEmails.map((e) => e.trim().toLowerCase())),
      unsubscribed: new Set(config.unsubscribedEmails.map((e) => e.trim().toLowerCase())),
    },
    config.addLeadsAnswer,
    refusals,
  );
  const bannedAgents = config.bannedUserAgents.map((a) => a.toLowerCase());
  const seconds = (ms: number): string =>
    config.timeScale === 1 ? String(Math.ceil(ms / 1000)) : String(Math.ceil(ms) / 1000);

  const protocol: VendorProtocol = {
    endpointFor: (request) => endpointFor(request, endpoints, () => analyticsLimiter, analyticsWindows[0]!),
    notFound: (request) => ({
      status: 404,
      body: failure('NOT_FOUND', `Cannot ${request.method} ${request.url.pathname}`),
    }),
    authenticate(request) {
      const agent = String(request.headers['user-agent'] ?? '').toLowerCase();
      if (bannedAgents.some((banned) => (banned === '' ? agent === '' : agent.startsWith(banned)))) {
        return { status: 403, body: CLOUDFLARE_1010_BODY };
      }
      if (request.url.searchParams.get('api_key') === config.apiKey) return undefined;
      return config.unauthorizedAnswer === 'message'
        ? { status: 401, body: { message: 'Invalid API Key' } }
        : { status: 401, body: { success: false, ...failure('UNAUTHORIZED', 'Invalid or missing API key') } };
    },
    serverError: () => ({ status: 500, body: failure('INTERNAL_SERVER_ERROR', 'Simulated server error') }),
    rateLimited({ refusedBy, retryAfterMs }, _usage, nowMs) {
      const retryAfter = seconds(retryAfterMs);
      return {
        status: 429,
        body: {
          error: {
            code: 'RATE_LIMIT_EXCEEDED',
            message: `Too many requests. Please retry after ${retryAfter} seconds.`,
            retry_after: Number(retryAfter),
          },
        },
        headers: {
          'Retry-After': retryAfter,
          'X-RateLimit-Limit': String(refusedBy.limit),
          'X-RateLimit-Remaining': '0',
          'X-RateLimit-Reset': resetHeader(nowMs + retryAfterMs),
        },
      };
    },
    quotaHeaders(usage: WindowUsage[]): Record<string, string> {
      const binding = bindingWindow(usage);
      if (!binding) return {};
      return {
        'X-RateLimit-Limit': String(binding.limit),
        'X-RateLimit-Remaining': String(binding.remaining),
        'X-RateLimit-Reset': resetHeader(binding.resetAtMs),
      };
    },
  };
  function resetHeader(atMs: number): string {
    return config.timeScale === 1 ? String(Math.ceil(atMs / 1000)) : String(Math.ceil(atMs) / 1000);
  }

  const running = await serveSimulator({
    vendor: 'smartlead',
    listen: config,
    apiPrefix: API_PREFIX,
    protocol,
    state: { limiter: () => limiter, faults, log },
    admin: {
      report,
      leads: () => store.allLeads(),
      activities: () => [],
      reset,
      editLead: (email, fields) => store.editLead(email, fields),
      deleteLead: (email) => store.deleteLead(email),
      route: adminRoute,
    },
    beforeStop: () => sharedKey.stop(),
  });
  sharedKey.start();

  function adminRoute(method: string, path: string, request: SimRequest) {
    if (method === 'GET' && path === '/campaigns') return { status: 200, body: store.campaigns() };
    if (method === 'GET' && path === '/writes') {
      const { total, resent } = writes();
      return { status: 200, body: { total, resent } };
    }
    if (method === 'POST' && path === '/upload-failures') {
      const parsed = UploadFailuresSchema.safeParse(request.body ?? {});
      if (!parsed.success) return refuse(parsed.error);
      failUploads(parsed.data.count, parsed.data.message);
      return { status: 200, body: { ok: true } };
    }
    if (method !== 'POST' || path !== '/campaigns') return undefined;
    const seed = CampaignSeedSchema.safeParse(request.body ?? {});
    if (!seed.success) return refuse(seed.error);
    if (seed.data.id !== undefined && store.campaign(seed.data.id)) {
      return { status: 409, body: { error: `campaign ${seed.data.id} exists already` } };
    }
    return { status: 201, body: store.addCampaign(seed.data) };
  }

  function writes(): LeadWrites {
    const perLead = new Map([...log.rowWrites('lead')].map(([key, requests]) => [key, requests.length]));
    const total = [...perLead.values()].reduce((sum, times) => sum + times, 0);
    return { total, resent: total - perLead.size, perLead };
  }

  function failUploads(count: number, message = UPLOAD_FAILURE_MESSAGE): void {
    refusals.failures.remaining = count;
    refusals.failures.message = message;
  }

  function report({ requests = true }: ReportOptions = {}): StateReport {
    const totals = store.totals();
    return {
      vendor: 'smartlead',
      requests: requests ? log.records() : [],
      totals: log.totals(),
      leads: { count: totals.leads, created: totals.created, updated: totals.updated },
      // Uploads dedupe by email within a campaign: a lead cannot be stored twice (resends are in writes()).
      duplicates: 0,
      activities: 0,
      sharedKey: sharedKey.report(),
    };
  }

  function reset(): void {
    store = newStore();
    limiter = new SlidingWindowLimiter({ general: windows });
    analyticsLimiter = new SlidingWindowLimiter({ analytics: analyticsWindows });
    refusals.failures.remaining = 0;
    sharedKey.reset();
    faults.set(config.faults ?? {});
    log.clear();
  }

  return {
    ...running,
    leads: (campaignId) =>
      campaignId === undefined ? store.allLeads() : store.campaign(campaignId) ? store.leads(campaignId) : [],
    campaigns: () => store.campaigns(),
    addCampaign: (seed = {}) => store.addCampaign(CampaignSeedSchema.parse(seed)),
    writes,
    failUploads,
  };
}

const UploadFailuresSchema = z
  .object({ count: z.number().int().min(0), message: z.string().min(1).optional() })
  .strict();

/**
 * Every endpoint spends from the key's one lane: SmartLead counts all endpoints together. The analytics endpoint has
 * a window of its own besides, and answers it in plain text.
 */
function endpointFor(
  request: SimRequest,
  endpoints: SmartLeadEndpoints,
  analyticsLimiter: () => SlidingWindowLimiter,
  analyticsWindow: Window,
): Endpoint | undefined {
  const { pathname } = request.url;
  if (!pathname.startsWith(`${API_PREFIX}/`)) return undefined;
  const path = pathname.slice(API_PREFIX.length);
  const endpoint = (handle: Endpoint['handle']): Endpoint => ({ lane: 'general', spends: ['general'], handle });
  if (request.method === 'GET' && (path === '/campaigns' || path === '/campaigns/')) {
    return endpoint(() => endpoints.listCampaigns());
  }
  const match = CAMPAIGN_ROUTE.exec(path);
  if (!match) return undefined;
  const campaignId = Number(match[1]);
  const [, , sub, leadId] = match;
  const route = `${request.method} ${sub ?? ''}${leadId === undefined ? '' : '/:lead'}`;
  switch (route) {
    case 'GET ':
      return endpoint(() => endpoints.getCampaign(campaignId));
    case 'POST leads':
      return endpoint((r) => endpoints.addLeads(r, campaignId));
    case 'GET leads':
      return endpoint((r) => endpoints.listLeads(r, campaignId));
    case 'POST leads/:lead':
      return endpoint((r) => endpoints.updateLead(r, campaignId, Number(leadId)));
    case 'GET analytics':
      return endpoint(() => {
        if (!analyticsLimiter().tryAdmit(['analytics'], Date.now()).admitted) {
          return {
            status: 429,
            body: `Too Many Requests: at most ${analyticsWindow.limit} requests per ${analyticsWindow.seconds} seconds`,
            outcome: 'rate-limited',
          };
        }
        return endpoints.analytics(campaignId);
      });
    default:
      return undefined;
  }
}

function planWindows(plan: string | SmartLeadCustomPlan): Window[] {
  if (typeof plan !== 'string') return plan.windows;
  const windows = findPlan(SMARTLEAD_PLANS, plan)?.lanes.general?.windows;
  if (!windows) {
    throw new ConfigError(
      `unknown SmartLead plan '${plan}' (known: ${planNames(SMARTLEAD_PLANS).join(', ')}; or give custom windows)`,
    );
  }
  return windows;
}
