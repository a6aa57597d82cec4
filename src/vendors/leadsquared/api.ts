import { Redactor } from '../../observability/redactor.js';
import { requestJson, type JsonRequest } from '../http.js';
import type { Transport } from '../transport.js';
import type { VendorLead, VendorRecord, RowOutcome } from '../types.js';
import {
  activityBody,
  activityByEmailBody,
  activityFieldNames,
  type ActivityByEmail,
  type ActivityRecord,
  type RetrievedActivity,
} from './sales-activities.js';
import {
  bulkActivityResults,
  bulkLeadResults,
  leadCopyOf,
  prospectIdOf,
  retrievedActivities,
  singleWriteResult,
  type Answer,
  type WriteResult,
} from './classify.js';
import { EMAIL_ATTRIBUTE, leadAttributes, leadFieldNames } from './fields.js';
import { ProspectIdCache } from './prospect-cache.js';

export interface LeadSquaredClientOptions {
  /** Names the account in every error text. */
  accountName: string;
  /** `https://{host}/v2/` */
  baseUrl: string;
  accessKey: string;
  secretKey: string;
  timeoutMs: number;
  maxAnswerBytes?: number;
  transport?: Transport;
  /** ProspectIDs remembered, by email; 10,000 by default. */
  prospectCacheSize?: number;
}

const DEFAULT_PROSPECT_CACHE_SIZE = 10_000;
/**
 * Activities asked for per Retrieve call. The page documents 25 per call by default and shows RowCount 50; the
 * largest page is not documented. Paging by page number stays right whatever size the vendor really uses.
 */
const ACTIVITY_PAGE_SIZE = 50;

/**
 * LeadSquared's API v2 for one account. One method, one call: pacing and retries belong to the caller, which
 * gets a VendorError for a failed call and a RowOutcome per row otherwise.
 */
export class LeadSquaredClient {
  private readonly baseUrl: URL;
  private readonly redactor: Redactor;
  private readonly prospectIds: ProspectIdCache;

  constructor(private readonly options: LeadSquaredClientOptions) {
    // A base without its trailing slash would make every relative path replace the 'v2' segment.
    this.baseUrl = new URL(options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`);
    this.redactor = new Redactor([options.accessKey, options.secretKey]);
    this.prospectIds = new ProspectIdCache(options.prospectCacheSize ?? DEFAULT_PROSPECT_CACHE_SIZE);
  }

  /** Lead.CreateOrUpdate, matched by email. */
  async createOrUpdateLead(lead: VendorRecord): Promise<RowOutcome> {
    const answer = await this.call('POST', 'LeadManagement.svc/Lead.CreateOrUpdate', {
      query: { postUpdatedLead: 'false' },
      body: leadAttributes(lead),
    });
    const result = singleWriteResult(answer, { row: lead.row, fieldNames: leadFieldNames(lead) });
    return this.remember(lead.email, result);
  }

  /** Lead/Bulk/CreateOrUpdate: one outcome per lead, in the order given. */
  async bulkCreateOrUpdateLeads(leads: readonly VendorRecord[]): Promise<RowOutcome[]> {
    if (leads.length === 0) return [];
    const answer = await this.call('POST', 'LeadManagement.svc/Lead/Bulk/CreateOrUpdate', {
      body: leads.map(leadAttributes),
    });
    const results = bulkLeadResults(
      answer,
      leads.map((lead) => ({ row: lead.row, fieldNames: leadFieldNames(lead) })),
    );
    return results.map((result, i) => this.remember(leads[i]!.email, result));
  }

  /** The ProspectID of a lead written or looked up before, without a call: a caller pacing its calls asks first. */
  cachedProspectId(email: string): string | undefined {
    return this.prospectIds.get(email);
  }

  /** Leads.GetByEmailaddress: the lead's ProspectID, or undefined when there is no such lead. Cached. */
  async getLeadByEmail(email: string): Promise<string | undefined> {
    const cached = this.prospectIds.get(email);
    if (cached !== undefined) return cached;
    const answer = await this.call('GET', 'LeadManagement.svc/Leads.GetByEmailaddress', {
      query: { emailaddress: email },
    });
    const prospectId = prospectIdOf(answer);
    // Only hits are kept: an unknown address may become a lead at any moment.
    if (prospectId !== undefined) this.prospectIds.set(email, prospectId);
    return prospectId;
  }

  /**
   * Leads.GetByEmailaddress read whole (apidocs: get-a-lead-by-email-id): the lead as LeadSquared holds it now, or
   * undefined when no lead has the address. Never from the cache: reconciliation asks what the vendor holds.
   */
  async readLead(email: string): Promise<VendorLead | undefined> {
    const answer = await this.call('GET', 'LeadManagement.svc/Leads.GetByEmailaddress', {
      query: { emailaddress: email },
    });
    const fields = leadCopyOf(answer);
    if (fields === undefined) return undefined;
    if (fields.ProspectID) this.prospectIds.set(email, fields.ProspectID);
    return { email: fields[EMAIL_ATTRIBUTE] || email, fields };
  }

  /** ProspectActivity.svc/Create on the lead with this ProspectID. */
  async postActivity(prospectId: string, activity: ActivityRecord): Promise<RowOutcome> {
    const answer = await this.call('POST', 'ProspectActivity.svc/Create', {
      body: activityBody(prospectId, activity),
    });
    return singleWriteResult(answer, { row: activity.row, fieldNames: activityFieldNames(activity) }).outcome;
  }

  /**
   * ProspectActivity.svc/Retrieve: one page of the lead's activities of `event`. `Paging.Offset` is the page number
   * (apidocs: get-activities-of-a-lead), from 0 as the page's own example asks for the first page.
   */
  async activitiesOfLead(
    prospectId: string,
    event: number,
    page: number,
    pageSize = ACTIVITY_PAGE_SIZE,
  ): Promise<{ activities: RetrievedActivity[]; total: number }> {
    const answer = await this.call('POST', 'ProspectActivity.svc/Retrieve', {
      query: { leadId: prospectId },
      body: { Parameter: { ActivityEvent: event }, Paging: { Offset: page, RowCount: pageSize } },
    });
    const retrieved = retrievedActivities(answer);
    return {
      total: retrieved.RecordCount,
      activities: retrieved.ProspectActivities.map((a) => ({
        ...(a.Id ? { id: a.Id } : {}),
        event: a.EventCode,
        ...(a.CreatedOn ? { createdOn: a.CreatedOn } : {}),
        data: Object.fromEntries(
          (a.Data ?? []).map((d) => [d.Key, d.Value === null || d.Value === undefined ? '' : String(d.Value)]),
        ),
      })),
    };
  }

  /** ProspectActivity.svc/Bulk/CustomActivity/Add/ByLeadField, leads found by email; the vendor takes 25 a call. */
  async postActivitiesByLeadField(activities: readonly ActivityByEmail[]): Promise<RowOutcome[]> {
    if (activities.length === 0) return [];
    const answer = await this.call('POST', 'ProspectActivity.svc/Bulk/CustomActivity/Add/ByLeadField', {
      query: { searchBy: EMAIL_ATTRIBUTE },
      body: activities.map(activityByEmailBody),
    });
    const sent = activities.map((a) => ({ row: a.row, fieldNames: [EMAIL_ATTRIBUTE, ...activityFieldNames(a)] }));
    return bulkActivityResults(answer, sent).map((result) => result.outcome);
  }

  /** A lead written: its ProspectID is cached for activities, and carried on its outcome for the changelog. */
  private remember(email: string, result: WriteResult): RowOutcome {
    if (result.outcome.status !== 'accepted' || !result.id) return result.outcome;
    this.prospectIds.set(email, result.id);
    return { ...result.outcome, vendorId: result.id };
  }

  private async call(
    method: JsonRequest['method'],
    path: string,
    { query, body }: { query?: Record<string, string>; body?: unknown },
  ): Promise<Answer> {
    const url = new URL(path, this.baseUrl);
    for (const [name, value] of Object.entries(query ?? {})) url.searchParams.set(name, value);
    const response = await requestJson(
      {
        method,
        url,
        // Keys in headers, not the query string: URLs end up in proxies' and servers' logs.
        headers: { 'x-LSQ-AccessKey': this.options.accessKey, 'x-LSQ-SecretKey': this.options.secretKey },
        body,
        returnServerErrors: true,
      },
      {
        label: `LeadSquared account '${this.options.accountName}'`,
        timeoutMs: this.options.timeoutMs,
        maxAnswerBytes: this.options.maxAnswerBytes,
        redactor: this.redactor,
        transport: this.options.transport,
      },
    );
    return {
      call: `LeadSquared account '${this.options.accountName}', ${method} ${path}`,
      status: response.status,
      body: response.body,
    };
  }
}
