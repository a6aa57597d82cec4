import type { z } from 'zod';
import { Redactor } from '../../observability/redactor.js';
import { UnexpectedResponseError } from '../errors.js';
import { requestJson, type JsonRequest } from '../http.js';
import type { Transport } from '../transport.js';
import type { QuotaReading } from '../../core/plans.js';
import { callFailure, quotaOf, type CallContext } from './classify.js';
import {
  AddLeadsAnswerSchema,
  CampaignAnalyticsSchema,
  CampaignLeadsPageSchema,
  CampaignListSchema,
  CampaignSchema,
  UpdateLeadAnswerSchema,
  type AddLeadsResult,
  type AddLeadsSettings,
  type Campaign,
  type CampaignAnalytics,
  type CampaignLeadsPage,
  type SmartLeadLead,
} from './schemas.js';

export interface SmartLeadApiOptions {
  /** https://server.smartlead.ai/api/v1, or a simulator's. */
  baseUrl: string;
  apiKey: string;
  timeoutMs: number;
  maxAnswerBytes?: number;
  /** Names the caller in every error text, e.g. `smartlead account 'outbound'`. */
  label: string;
  transport?: Transport;
}

/** A parsed answer, with the quota SmartLead reported alongside it. */
export interface Answered<T> {
  data: T;
  quota?: QuotaReading;
}

/** An answer that arrived whole, as a success, in a shape leadsync cannot read: `body` is its raw text, redacted. */
export class UnreadableAnswerError extends UnexpectedResponseError {
  override name = 'UnreadableAnswerError';
  constructor(
    message: string,
    readonly body: string,
  ) {
    super(message);
  }
}

/** SmartLead's documented maximum page size for a campaign's leads. */
export const MAX_LEADS_PAGE = 100;

/**
 * The SmartLead endpoints leadsync uses, one method each, every answer parsed. The API key travels as the
 * `api_key` query parameter, as SmartLead requires; error texts name only method and path, and the key is redacted
 * from anything the vendor echoes back.
 */
export class SmartLeadApi {
  private readonly baseUrl: string;
  private readonly redactor: Redactor;

  constructor(private readonly options: SmartLeadApiOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.redactor = new Redactor([options.apiKey]);
  }

  /**
   * POST /campaigns/{id}/leads: at most 400 leads; more is answered with a BatchTooLargeError, a refusal of some of
   * the leads (422 "lead validation failed") with a BatchRefusedError.
   */
  addLeadsToCampaign(
    campaignId: number,
    leads: readonly SmartLeadLead[],
    settings?: AddLeadsSettings,
  ): Promise<Answered<AddLeadsResult>> {
    return this.call(
      { method: 'POST', path: `/campaigns/${campaignId}/leads`, body: { lead_list: leads, settings } },
      AddLeadsAnswerSchema,
      { target: `campaign ${campaignId}`, leadsSent: leads.length },
    );
  }

  listCampaigns(): Promise<Answered<Campaign[]>> {
    return this.call({ method: 'GET', path: '/campaigns/' }, CampaignListSchema, { target: 'campaign list' });
  }

  getCampaign(campaignId: number): Promise<Answered<Campaign>> {
    return this.call({ method: 'GET', path: `/campaigns/${campaignId}` }, CampaignSchema, {
      target: `campaign ${campaignId}`,
    });
  }

  /** One page of a campaign's leads; walk pages with offset += limit until offset reaches total_leads. */
  listCampaignLeads(
    campaignId: number,
    page: { offset: number; limit: number } = { offset: 0, limit: MAX_LEADS_PAGE },
  ): Promise<Answered<CampaignLeadsPage>> {
    if (!Number.isInteger(page.limit) || page.limit < 1 || page.limit > MAX_LEADS_PAGE) {
      throw new RangeError(`limit must be an integer from 1 to ${MAX_LEADS_PAGE}, got ${page.limit}`);
    }
    return this.call(
      {
        method: 'GET',
        path: `/campaigns/${campaignId}/leads`,
        query: { offset: String(page.offset), limit: String(page.limit) },
      },
      CampaignLeadsPageSchema,
      { target: `campaign ${campaignId}` },
    );
  }

  /** POST /campaigns/{id}/leads/{lead_id}: SmartLead requires the email even when it does not change. */
  async updateLead(campaignId: number, leadId: number, lead: SmartLeadLead): Promise<Answered<void>> {
    const answered = await this.call(
      { method: 'POST', path: `/campaigns/${campaignId}/leads/${leadId}`, body: lead },
      UpdateLeadAnswerSchema,
      { target: `lead ${leadId} in campaign ${campaignId}` },
    );
    return { data: undefined, quota: answered.quota };
  }

  campaignAnalytics(campaignId: number): Promise<Answered<CampaignAnalytics>> {
    return this.call({ method: 'GET', path: `/campaigns/${campaignId}/analytics` }, CampaignAnalyticsSchema, {
      target: `campaign ${campaignId}`,
    });
  }

  private async call<S extends z.ZodType>(
    request: { method: JsonRequest['method']; path: string; query?: Record<string, string>; body?: unknown },
    schema: S,
    context: CallContext,
  ): Promise<Answered<z.output<S>>> {
    const url = new URL(`${this.baseUrl}${request.path}`);
    for (const [name, value] of Object.entries(request.query ?? {})) url.searchParams.set(name, value);
    url.searchParams.set('api_key', this.options.apiKey);
    const response = await requestJson(
      { method: request.method, url, body: request.body },
      {
        label: this.options.label,
        timeoutMs: this.options.timeoutMs,
        maxAnswerBytes: this.options.maxAnswerBytes,
        redactor: this.redactor,
        transport: this.options.transport,
      },
    );
    const answer = {
      call: `${this.options.label}: ${request.method} ${request.path}`,
      status: response.status,
      headers: response.headers,
      body: response.body,
    };
    const failure = callFailure(answer, context);
    if (failure) throw failure;
    const parsed = schema.safeParse(response.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new UnreadableAnswerError(
        `${answer.call}: unexpected answer (HTTP ${answer.status}): ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'unreadable'}`,
        typeof response.body === 'string' ? response.body : JSON.stringify(response.body),
      );
    }
    return { data: parsed.data, quota: quotaOf(response.headers) };
  }
}
