import { z } from 'zod';
import { ConfigError } from '../../../core/errors.js';
import { WindowSchema, findPlan, planNames, type Window } from '../../../core/plans.js';
import { FaultInjector, FaultOptionsSchema } from '../../../simulation/faults.js';
import type { SimRequest } from '../../../simulation/json-server.js';
import { parseOptions, serveSimulator } from '../../../simulation/serve.js';
import type { Endpoint, VendorProtocol } from '../../../simulation/pipeline.js';
import { RequestLog } from '../../../simulation/request-log.js';
import type { ReportOptions, RunningSimulator, StateReport } from '../../../simulation/simulator.js';
import { SlidingWindowLimiter } from '../../../simulation/sliding-window.js';
import { LeadSquaredEndpoints, VENDOR_FAULT, errorEnvelope, type LeadSquaredQuirks } from './endpoints.js';
import { LeadSquaredStore, type StoredActivity, type StoredLead } from './store.js';
import { LEADSQUARED_PLANS } from '../plans.js';

/** Windows per lane, for an account whose limits differ from every published plan. */
export interface LeadSquaredCustomPlan {
  general: Window[];
  bulk: Window[];
}

export const LeadSquaredCustomPlanSchema = z
  .object({ general: z.array(WindowSchema).min(1), bulk: z.array(WindowSchema).min(1) })
  .strict();

export const LeadSquaredSimulatorOptionsSchema = z
  .object({
    /** A plan of the seed's table by name (`leadsync plans`), or custom windows per lane. */
    plan: z.union([z.string().min(1), LeadSquaredCustomPlanSchema]),
    accessKey: z.string().min(1),
    secretKey: z.string().min(1),
    /** 0 picks a free port. */
    port: z.number().int().min(0).max(65_535).default(0),
    host: z.string().min(1).default('127.0.0.1'),
    /** 429 as documented, or 200 as LeadSquared has been seen answering a rate limit. */
    rateLimitStatus: z.union([z.literal(429), z.literal(200)]).default(429),
    /** Where the rate-limit text comes: ExceptionMessage (the docs' envelope) or Message (the seed's sample). */
    rateLimitText: z.enum(['ExceptionMessage', 'Message']).default('ExceptionMessage'),
    /** Lead fields no two leads may share besides the email (LeadSquared's default: Phone; apidocs). */
    uniqueFields: z.array(z.string().min(1)).default(['Phone']),
    /** The over-size refusal's HTTP status: undocumented, like its text. */
    batchTooLargeStatus: z.number().int().min(200).max(599).default(400),
    /** Whether a bulk call also spends from the general lane: the strictest reading, and the default. */
    bulkSpendsGeneral: z.boolean().default(true),
    faults: FaultOptionsSchema.optional(),
    /** Row maxima of the bulk endpoints (the seed: 50 leads, 25 activities; newer pages say 25 leads). */
    leadsPerBulkCall: z.number().int().positive().default(50),
    activitiesPerBulkCall: z.number().int().positive().default(25),
  })
  .strict();
export type LeadSquaredSimulatorOptions = z.input<typeof LeadSquaredSimulatorOptionsSchema>;

/** A LeadSquared simulator, with what it stored for tests to compare against their source. */
export interface RunningLeadSquaredSimulator extends RunningSimulator {
  leads(): StoredLead[];
  activities(): readonly StoredActivity[];
  /** Replaces the keys the simulator accepts: the old ones get 401 from now on (a key revoked mid-sync). */
  setKeys(keys: { accessKey: string; secretKey: string }): void;
  /** Answers only the record's silences allow, by the emails they strike (see LeadSquaredQuirks). */
  setQuirks(quirks: { unreadableRows?: readonly string[]; failingRows?: readonly string[] }): void;
  /** Deletes leads by email, as `POST /__admin/leads/delete { email }` does one: a conflict cleared at the vendor. */
  deleteLeads(emails: readonly string[]): number;
}

const API_PREFIX = '/v2/';

/**
 * Starts a LeadSquared API v2 simulator: the endpoints leadsync calls, the key headers (or query parameters),
 * the plan's sliding 5-second windows per lane enforced strictly, and the vendor's envelopes for every refusal.
 */
export async function startLeadSquaredSimulator(
  options: LeadSquaredSimulatorOptions,
): Promise<RunningLeadSquaredSimulator> {
  const config = parseOptions(LeadSquaredSimulatorOptionsSchema, options, 'LeadSquared simulator options');
  const lanes = laneWindows(config.plan);
  let store = new LeadSquaredStore(config.uniqueFields);
  const keys = { accessKey: config.accessKey, secretKey: config.secretKey };
  let quirks = noQuirks();
  let limiter = new SlidingWindowLimiter(lanes);
  const faults = new FaultInjector(config.faults);
  const log = new RequestLog();
  const endpoints = new LeadSquaredEndpoints(
    () => store,
    {
      leadsPerCall: config.leadsPerBulkCall,
      activitiesPerCall: config.activitiesPerBulkCall,
      batchTooLargeStatus: config.batchTooLargeStatus,
    },
    () => quirks,
  );
  const bulkSpends = config.bulkSpendsGeneral ? ['bulk', 'general'] : ['bulk'];
  const routes: Record<string, Endpoint> = {
    'POST LeadManagement.svc/Lead.CreateOrUpdate': general((r) => endpoints.createOrUpdateLead(r)),
    'POST LeadManagement.svc/Lead/Bulk/CreateOrUpdate': bulk((r) => endpoints.bulkCreateOrUpdateLeads(r)),
    'GET LeadManagement.svc/Leads.GetByEmailaddress': general((r) => endpoints.getLeadByEmail(r)),
    'POST ProspectActivity.svc/Create': general((r) => endpoints.postActivity(r)),
    'POST ProspectActivity.svc/Retrieve': general((r) => endpoints.retrieveActivities(r)),
    'POST ProspectActivity.svc/Bulk/CustomActivity/Add/ByLeadField': bulk((r) =>
      endpoints.postActivitiesByLeadField(r),
    ),
  };
  // LeadSquared's WCF endpoints match paths case-insensitively.
  const routesByKey = new Map(Object.entries(routes).map(([key, endpoint]) => [key.toLowerCase(), endpoint]));

  const protocol: VendorProtocol = {
    endpointFor(request) {
      const { pathname } = request.url;
      if (!pathname.startsWith(API_PREFIX)) return undefined;
      return routesByKey.get(`${request.method} ${pathname.slice(API_PREFIX.length)}`.toLowerCase());
    },
    notFound: (request) => ({
      status: 404,
      body: errorEnvelope('MXEndpointNotFoundException', `no endpoint ${request.method} ${request.url.pathname}`),
    }),
    authenticate(request) {
      if (keyOf(request, 'accessKey') === keys.accessKey && keyOf(request, 'secretKey') === keys.secretKey) {
        return undefined;
      }
      return {
        status: 401,
        body: errorEnvelope('MXUnAuthorizedAccessException', 'The access key or secret key is missing or invalid'),
      };
    },
    serverError: () => VENDOR_FAULT,
    rateLimited: ({ refusedBy }) => {
      const text = `API calls exceeded the limit of ${refusedBy.limit} in ${refusedBy.seconds} second(s)`;
      return {
        status: config.rateLimitStatus,
        body:
          config.rateLimitText === 'Message'
            ? { Status: 'Error', Message: text }
            : errorEnvelope('MXAPIRateLimitExceededException', text),
      };
    },
  };

  const running = await serveSimulator({
    vendor: 'leadsquared',
    listen: config,
    apiPrefix: API_PREFIX,
    protocol,
    state: { limiter: () => limiter, faults, log },
    admin: {
      report,
      leads: () => store.leads(),
      activities: () => store.activities(),
      reset,
      editLead: (email, fields) => store.editLead(email, fields),
      deleteLead: (email) => store.deleteLead(email),
    },
  });

  function report({ requests = true }: ReportOptions = {}): StateReport {
    const counts = store.counts();
    return {
      vendor: 'leadsquared',
      requests: requests ? log.records() : [],
      totals: log.totals(),
      leads: { count: counts.leads, created: counts.created, updated: counts.updated },
      duplicates: counts.duplicates,
      activities: counts.activities,
    };
  }

  function reset(): void {
    store = new LeadSquaredStore(config.uniqueFields);
    quirks = noQuirks();
    Object.assign(keys, { accessKey: config.accessKey, secretKey: config.secretKey });
    limiter = new SlidingWindowLimiter(lanes);
    faults.set(config.faults ?? {});
    log.clear();
  }

  function general(handle: Endpoint['handle']): Endpoint {
    return { lane: 'general', spends: ['general'], handle };
  }

  function bulk(handle: Endpoint['handle']): Endpoint {
    return { lane: 'bulk', spends: bulkSpends, handle };
  }

  return {
    ...running,
    leads: () => store.leads(),
    activities: () => store.activities(),
    setKeys: (next) => Object.assign(keys, next),
    deleteLeads: (emails) => emails.filter((email) => store.deleteLead(email)).length,
    setQuirks: ({ unreadableRows = [], failingRows = [] }) => {
      const lower = (emails: readonly string[]) => new Set(emails.map((email) => email.toLowerCase()));
      quirks = { unreadableRowFor: lower(unreadableRows), failingFor: lower(failingRows) };
    },
  };
}

function noQuirks(): LeadSquaredQuirks {
  return { unreadableRowFor: new Set(), failingFor: new Set() };
}

function laneWindows(plan: string | LeadSquaredCustomPlan): Record<'general' | 'bulk', Window[]> {
  if (typeof plan !== 'string') return { general: plan.general, bulk: plan.bulk };
  const found = findPlan(LEADSQUARED_PLANS, plan);
  const general = found?.lanes.general;
  const bulk = found?.lanes.bulk;
  if (!general || !bulk) {
    throw new ConfigError(
      `unknown LeadSquared plan '${plan}' (known: ${planNames(LEADSQUARED_PLANS).join(', ')}; or give windows per lane)`,
    );
  }
  return { general: general.windows, bulk: bulk.windows };
}

/** Keys in the recommended headers, or in the query string as LeadSquared also accepts them. */
function keyOf(request: SimRequest, name: 'accessKey' | 'secretKey'): string | undefined {
  const header = request.headers[`x-lsq-${name.toLowerCase()}`];
  if (typeof header === 'string') return header;
  return request.url.searchParams.get(name) ?? undefined;
}
