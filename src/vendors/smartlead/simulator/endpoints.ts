import type { z } from 'zod';
import type { SimRequest } from '../../../simulation/json-server.js';
import type { EndpointAnswer } from '../../../simulation/pipeline.js';
import {
  AddLeadsBodySchema,
  AddLeadsSettingsSchema,
  LeadListSchema,
  LeadSchema,
  LeadsPageQuerySchema,
  STANDARD_FIELDS,
} from './schemas.js';
import {
  campaignLeadKey,
  type SmartLeadStore,
  type StoredCampaign,
  type StoredCampaignLead,
  type Suppression,
  type UploadResult,
} from './store.js';

/** The one user owning the simulator's campaigns. */
const SIMULATED_USER_ID = 1;

/** SmartLead's documented maximum of leads per upload. */
export const MAX_LEADS_PER_UPLOAD = 400;

/**
 * Which add-leads answer to give: the classic counts with the invalid and unsubscribed leads listed, the classic counts
 * alone (`unsubscribed_leads` a number, no `invalid_emails`, as clients written against it show), or the newer
 * reference's skipped list.
 */
export type AddLeadsAnswerShape = 'classic' | 'classic-counts' | 'new';

/** What the simulator refuses beyond its state: leads failing SmartLead's own validation, and failing uploads. */
export interface UploadRefusals {
  /** Addresses (lower case) whose lead SmartLead's validation refuses, failing the whole upload with 422. */
  invalidLeads: ReadonlySet<string>;
  /** Uploads still to be answered HTTP 200 `success:false` with this message, writing nothing. */
  failures: { remaining: number; message: string };
}

/** SmartLead's failure shape for everything but 401s and plain-text analytics limits. */
export function failure(code: string, message: string) {
  return { error: { code, message } };
}

const REASONS = {
  invalid: 'invalid email address',
  duplicate: 'duplicate lead in this upload',
  alreadyAdded: 'lead already exists in this campaign',
  blocked: 'on the global block list',
  bounced: 'on the community bounce list',
  unsubscribed: 'unsubscribed',
} as const;

/** The endpoints, each a function of the store and the request; the campaign id comes from the route. */
export class SmartLeadEndpoints {
  constructor(
    private readonly store: () => SmartLeadStore,
    private readonly suppression: Suppression,
    private readonly answerShape: AddLeadsAnswerShape,
    private readonly refusals: UploadRefusals,
  ) {}

  addLeads(request: SimRequest, campaignId: number): EndpointAnswer {
    const found = this.campaignOr404(campaignId);
    if ('refusal' in found) return found.refusal;
    const body = parse(request, AddLeadsBodySchema, 400);
    if ('refusal' in body) return body.refusal;
    const count = body.data.lead_list.length;
    if (count > MAX_LEADS_PER_UPLOAD) {
      return refusal(422, `lead_list has ${count} leads; at most ${MAX_LEADS_PER_UPLOAD} leads per request`);
    }
    const leads = LeadListSchema.safeParse(body.data.lead_list);
    if (!leads.success) return refusal(422, `lead validation failed: ${issueText(leads.error, 'lead_list')}`);
    const invalid = leads.data.findIndex((lead) => this.refusals.invalidLeads.has(lead.email.trim().toLowerCase()));
    if (invalid >= 0) return refusal(422, `lead validation failed: lead_list.${invalid}: lead refused`);
    if (this.refusals.failures.remaining > 0) {
      this.refusals.failures.remaining -= 1;
      return { status: 200, body: { success: false, message: this.refusals.failures.message }, outcome: 'invalid' };
    }
    const settings = AddLeadsSettingsSchema.parse(body.data.settings ?? {});
    const result = this.store().upload(campaignId, leads.data, settings, this.suppression);
    const rejected = result.invalid.length + result.blocked.length + result.bounced.length + result.unsubscribed.length;
    return {
      status: 200,
      body: this.answerShape === 'new' ? newAnswer(result) : classicAnswer(result, count, this.answerShape),
      rows: result.uploaded,
      rowsRejected: rejected,
      // Every lead the upload handled, added or not: SmartLead dedupes a resend, so only the log shows it.
      written: leads.data.map((lead) => ({ kind: 'lead', key: campaignLeadKey(campaignId, lead.email) })),
    };
  }

  listCampaigns(): EndpointAnswer {
    return { status: 200, body: this.store().campaigns().map(campaignJson) };
  }

  getCampaign(campaignId: number): EndpointAnswer {
    const found = this.campaignOr404(campaignId);
    return 'refusal' in found ? found.refusal : { status: 200, body: campaignJson(found.campaign) };
  }

  /** One page, `total_leads` as a string as in SmartLead's own example. */
  listLeads(request: SimRequest, campaignId: number): EndpointAnswer {
    const found = this.campaignOr404(campaignId);
    if ('refusal' in found) return found.refusal;
    const query = LeadsPageQuerySchema.safeParse(Object.fromEntries(request.url.searchParams));
    if (!query.success) return refusal(400, issueText(query.error));
    const { offset, limit } = query.data;
    const leads = this.store().leads(campaignId);
    return {
      status: 200,
      body: {
        total_leads: String(leads.length),
        offset,
        limit,
        data: leads.slice(offset, offset + limit).map(campaignLeadJson),
      },
    };
  }

  /** Updates a lead's fields; SmartLead requires the email even when it does not change. */
  updateLead(request: SimRequest, campaignId: number, leadId: number): EndpointAnswer {
    const found = this.campaignOr404(campaignId);
    if ('refusal' in found) return found.refusal;
    const lead = this.store().lead(campaignId, leadId);
    if (!lead) return { ...refusal(404, `no lead ${leadId} in campaign ${campaignId}`), outcome: 'not-found' };
    const changes = parse(request, LeadSchema, 400);
    if ('refusal' in changes) return changes.refusal;
    const other = this.store()
      .leads(campaignId)
      .find((l) => l !== lead && l.email.toLowerCase() === changes.data.email.trim().toLowerCase());
    if (other) return refusal(400, `another lead in campaign ${campaignId} has the email ${changes.data.email}`);
    const written = [{ kind: 'lead' as const, key: campaignLeadKey(campaignId, lead.email) }];
    this.store().update(lead, changes.data);
    return { status: 200, body: { ok: true, message: 'Lead updated successfully' }, rows: 1, written };
  }

  /** Counts only: the simulator sends no email, so everything but the leads is zero. */
  analytics(campaignId: number): EndpointAnswer {
    const found = this.campaignOr404(campaignId);
    if ('refusal' in found) return found.refusal;
    const zero = '0';
    return {
      status: 200,
      body: {
        id: found.campaign.id,
        name: found.campaign.name,
        status: found.campaign.status,
        sent_count: zero,
        open_count: zero,
        click_count: zero,
        reply_count: zero,
        bounce_count: zero,
        unsubscribed_count: zero,
        block_count: zero,
        total_count: String(this.store().leads(campaignId).length),
      },
    };
  }

  private campaignOr404(campaignId: number): { campaign: StoredCampaign } | { refusal: EndpointAnswer } {
    const campaign = this.store().campaign(campaignId);
    if (campaign) return { campaign };
    return { refusal: { ...refusal(404, `Campaign ${campaignId} not found`), outcome: 'not-found' } };
  }
}

/** The classic answer as AutoGPT's SmartLead model has it; with `classic-counts`, as the TypeScript clients do. */
function classicAnswer(result: UploadResult, totalLeads: number, shape: 'classic' | 'classic-counts') {
  const counts = {
    ok: true,
    upload_count: result.uploaded,
    total_leads: totalLeads,
    already_added_to_campaign: result.alreadyAdded.length,
    duplicate_count: result.duplicates.length,
    invalid_email_count: result.invalid.length,
  };
  if (shape === 'classic-counts') return { ...counts, unsubscribed_leads: result.unsubscribed.length };
  return {
    ...counts,
    invalid_emails: result.invalid,
    unsubscribed_leads: result.unsubscribed,
    block_count: result.blocked.length,
    bounce_count: result.bounced.length,
    is_lead_limit_exhausted: false,
    lead_import_stopped_count: 0,
  };
}

function newAnswer(result: UploadResult) {
  const skipped = [
    ...result.invalid.map((email) => ({ email, reason: REASONS.invalid })),
    ...result.duplicates.map((email) => ({ email, reason: REASONS.duplicate })),
    ...result.alreadyAdded.map((email) => ({ email, reason: REASONS.alreadyAdded })),
    ...result.blocked.map((email) => ({ email, reason: REASONS.blocked })),
    ...result.bounced.map((email) => ({ email, reason: REASONS.bounced })),
    ...result.unsubscribed.map((email) => ({ email, reason: REASONS.unsubscribed })),
  ];
  return { success: true, added_count: result.uploaded, skipped_count: skipped.length, skipped_leads: skipped };
}

function campaignJson(campaign: StoredCampaign) {
  return {
    id: campaign.id,
    user_id: SIMULATED_USER_ID,
    created_at: campaign.createdAt,
    updated_at: campaign.createdAt,
    status: campaign.status,
    name: campaign.name,
    client_id: null,
  };
}

function campaignLeadJson(lead: StoredCampaignLead) {
  return {
    campaign_lead_map_id: lead.campaignLeadMapId,
    lead_category_id: null,
    status: 'NOT_CONTACTED',
    created_at: lead.createdAt,
    lead: {
      id: lead.leadId,
      ...Object.fromEntries(STANDARD_FIELDS.map((field) => [field, lead.fields[field] ?? null])),
      email: lead.email,
      custom_fields: lead.customFields,
      is_unsubscribed: false,
      unsubscribed_client_id_map: null,
    },
  };
}

function refusal(status: number, message: string): EndpointAnswer {
  const code = status === 404 ? 'NOT_FOUND' : status === 422 ? 'VALIDATION_ERROR' : 'BAD_REQUEST';
  return { status, body: failure(code, message), outcome: 'invalid' };
}

function parse<T>(
  request: SimRequest,
  schema: z.ZodType<T>,
  status: number,
): { data: T } | { refusal: EndpointAnswer } {
  if (request.bodyError) return { refusal: refusal(status, `the body is not valid JSON: ${request.bodyError}`) };
  const parsed = schema.safeParse(request.body);
  return parsed.success ? { data: parsed.data } : { refusal: refusal(status, issueText(parsed.error)) };
}

function issueText(error: z.ZodError, prefix?: string): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid input';
  const path = [...(prefix ? [prefix] : []), ...issue.path].join('.');
  return path ? `${path}: ${issue.message}` : issue.message;
}
