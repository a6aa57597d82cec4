import { z } from 'zod';
import { FaultOptionsSchema, type FaultOptions } from './faults.js';
import type { SimAnswer, SimRequest } from './json-server.js';
import type { ReportOptions, SimulatorReport } from './simulator.js';

/** Admin endpoints live beside the vendor's API on the same port, under a path no vendor uses. */
export const ADMIN_PATH = '/__admin';

/** What the admin endpoints reach into; `route` answers a vendor's own admin paths (SmartLead's campaigns). */
export interface AdminApi {
  report(options: ReportOptions): SimulatorReport;
  leads(): readonly unknown[];
  activities(): readonly unknown[];
  setFaults(faults: FaultOptions): void;
  reset(): void;
  /**
   * A change made at the vendor out of band (a person editing the lead in the CRM): the lead with this email gets
   * these fields, or is deleted. False when no lead has the email.
   */
  editLead?(email: string, fields: Record<string, string>): boolean;
  deleteLead?(email: string): boolean;
  route?(method: string, path: string, request: SimRequest): SimAnswer | undefined;
}

const DEFAULT_PAGE = 1_000;
const MAX_PAGE = 100_000;

const PageSchema = z.object({
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(DEFAULT_PAGE),
});
const LeadEditSchema = z.object({ email: z.string().min(1), fields: z.record(z.string(), z.string()) }).strict();
const LeadDeleteSchema = z.object({ email: z.string().min(1) }).strict();

const ReportQuerySchema = z.object({ requests: z.enum(['true', 'false']).default('true') });

export function isAdminRequest(request: Pick<SimRequest, 'url'>): boolean {
  return request.url.pathname === ADMIN_PATH || request.url.pathname.startsWith(`${ADMIN_PATH}/`);
}

/**
 * GET report (?requests=false), leads and activities (?offset&limit, paged: a store may hold millions); POST faults,
 * reset, leads/edit and leads/delete (a change out of band, which reconciliation is to find).
 */
export function answerAdmin(request: SimRequest, api: AdminApi): SimAnswer {
  const path = request.url.pathname.slice(ADMIN_PATH.length).replace(/\/+$/, '') || '/';
  const query = Object.fromEntries(request.url.searchParams);
  const route = `${request.method} ${path}`;
  if (route === 'GET /report') {
    const parsed = ReportQuerySchema.safeParse(query);
    if (!parsed.success) return refuse(parsed.error);
    return { status: 200, body: api.report({ requests: parsed.data.requests === 'true' }) };
  }
  if (route === 'GET /leads' || route === 'GET /activities') {
    const parsed = PageSchema.safeParse(query);
    if (!parsed.success) return refuse(parsed.error);
    const { offset, limit } = parsed.data;
    const all = path === '/leads' ? api.leads() : api.activities();
    return { status: 200, body: { total: all.length, offset, limit, items: all.slice(offset, offset + limit) } };
  }
  if (route === 'POST /faults') {
    if (request.bodyError) return { status: 400, body: { error: `body is not JSON: ${request.bodyError}` } };
    const parsed = FaultOptionsSchema.safeParse(request.body ?? {});
    if (!parsed.success) return refuse(parsed.error);
    api.setFaults(parsed.data);
    return { status: 200, body: { ok: true, faults: parsed.data } };
  }
  if (route === 'POST /leads/edit') {
    const parsed = LeadEditSchema.safeParse(request.body ?? {});
    if (!parsed.success) return refuse(parsed.error);
    return changed(route, parsed.data.email, api.editLead && ((email) => api.editLead!(email, parsed.data.fields)));
  }
  if (route === 'POST /leads/delete') {
    const parsed = LeadDeleteSchema.safeParse(request.body ?? {});
    if (!parsed.success) return refuse(parsed.error);
    return changed(route, parsed.data.email, api.deleteLead && ((email) => api.deleteLead!(email)));
  }
  if (route === 'POST /reset') {
    api.reset();
    return { status: 200, body: { ok: true } };
  }
  return (
    api.route?.(request.method, path, request) ?? {
      status: 404,
      body: { error: `no admin endpoint ${route}` },
    }
  );
}

function changed(route: string, email: string, change: ((email: string) => boolean) | undefined): SimAnswer {
  if (!change) return { status: 404, body: { error: `this simulator has no ${route}` } };
  return change(email)
    ? { status: 200, body: { ok: true } }
    : { status: 404, body: { error: `no lead has the email ${email}` } };
}

export function refuse(error: z.ZodError): SimAnswer {
  return { status: 400, body: { error: z.prettifyError(error) } };
}
