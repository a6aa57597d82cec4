import { z } from 'zod';
import type { EndpointAnswer } from '../../../simulation/pipeline.js';
import type { SimRequest } from '../../../simulation/json-server.js';
import type { WrittenRow } from '../../../simulation/request-log.js';
import {
  ActivityBodySchema,
  ActivityByLeadFieldSchema,
  BulkBodySchema,
  LeadBodySchema,
  RetrieveActivitiesBodySchema,
  type ActivityBody,
  type ActivityByLeadField,
} from './schemas.js';
import { activityKey, type LeadSquaredStore, type NewActivity, type StoredActivity, type StoredLead } from './store.js';

export const INVALID_INPUT = 'MXInvalidInputException';
const EMAIL_ATTRIBUTE = 'EmailAddress';
const EmailSchema = z.email();

/** The vendor's failure envelope: the same on every status. */
export function errorEnvelope(exceptionType: string, message: string) {
  return { Status: 'Error', ExceptionType: exceptionType, ExceptionMessage: message };
}

export const DUPLICATE_ENTRY = 'MXDuplicateEntryException';

/** Per-call row maxima of the bulk endpoints (the seed: leads 50, activities 25), and how the refusal comes. */
export interface BulkLimits {
  leadsPerCall: number;
  activitiesPerCall: number;
  /** The over-size refusal's status: not documented (nor its text), so a rehearsal can try any. */
  batchTooLargeStatus: number;
}

/** Answers the record shows only as possibilities, switched on by tests and rehearsals (see the contract corpus). */
export interface LeadSquaredQuirks {
  /** Emails whose bulk row is refused in a shape the client does not know (the lead is not written). */
  unreadableRowFor: ReadonlySet<string>;
  /**
   * Emails that make any lead write carrying them fail with the vendor's own 500 (VENDOR_FAULT), nothing written: a
   * row the vendor chokes on.
   */
  failingFor: ReadonlySet<string>;
}

/**
 * A failure of the vendor's own: HTTP 500 in the MX envelope, as the error page says every 500 comes ("There could be
 * many reasons for it"), with a type that is no refusal of the row: the .NET exception an independent client's spec
 * shows LeadSquared answering (chatwoot/chatwoot, spec/services/crm/leadsquared/api/activity_client_spec.rb).
 */
export const VENDOR_FAULT = {
  status: 500,
  body: errorEnvelope('NullReferenceException', 'There was an error processing the request.'),
} as const;

/** The five endpoints, each a function of the store and the request. */
export class LeadSquaredEndpoints {
  constructor(
    private readonly store: () => LeadSquaredStore,
    private readonly limits: BulkLimits,
    private readonly quirks: () => LeadSquaredQuirks,
  ) {}

  /**
   * Lead.CreateOrUpdate: one lead, matched by email; a refused lead is a 400 in the error envelope, and a value of a
   * unique field another lead has is an HTTP 500 MXDuplicateEntryException (dpaluy/leadsquared specs).
   */
  createOrUpdateLead(request: SimRequest): EndpointAnswer {
    const parsed = parseBody(request, LeadBodySchema);
    if ('refusal' in parsed) return { ...parsed.refusal, rowsRejected: 1 };
    const written = leadWritten(parsed.data);
    const lead = readLead(parsed.data);
    if ('reason' in lead) {
      const body = errorEnvelope(INVALID_INPUT, lead.reason);
      return { status: 400, body, outcome: 'rejected', rowsRejected: 1, written };
    }
    if (this.quirks().failingFor.has(lead.email.toLowerCase())) return { ...VENDOR_FAULT, outcome: 'fault-500' };
    const clash = this.store().uniqueClash(lead.email, lead.fields);
    if (clash) {
      const body = errorEnvelope(DUPLICATE_ENTRY, duplicateText(clash.field));
      return { status: 500, body, outcome: 'rejected', rowsRejected: 1, written };
    }
    const { lead: stored } = this.store().upsertLead(lead.email, lead.fields);
    const body = { Status: 'Success', Message: { Id: stored.prospectId, AffectedRows: 1 } };
    return { status: 200, body, rows: 1, written };
  }

  /** Lead/Bulk/CreateOrUpdate: one result per row, by RowNumber; a refused row does not stop the others. */
  bulkCreateOrUpdateLeads(request: SimRequest): EndpointAnswer {
    const parsed = parseBulk(request, this.limits.leadsPerCall, 'leads', this.limits.batchTooLargeStatus);
    if ('refusal' in parsed) return parsed.refusal;
    const { failingFor } = this.quirks();
    const emails = parsed.data
      .map((element) => LeadBodySchema.safeParse(element))
      .flatMap((attributes) => {
        const lead = attributes.success ? readLead(attributes.data) : undefined;
        return lead && 'email' in lead ? [lead.email.toLowerCase()] : [];
      });
    if (emails.some((email) => failingFor.has(email))) return { ...VENDOR_FAULT, outcome: 'fault-500' };
    let rows = 0;
    const written: WrittenRow[] = [];
    const results = parsed.data.map((element, index) => {
      const RowNumber = index + 1;
      const attributes = LeadBodySchema.safeParse(element);
      if (attributes.success) written.push(...leadWritten(attributes.data));
      const lead = attributes.success ? readLead(attributes.data) : { reason: issueText(attributes.error) };
      if ('reason' in lead) {
        return { RowNumber, LeadId: null, LeadCreated: false, LeadUpdated: false, ...errorEnvelopeRow(lead.reason) };
      }
      if (this.quirks().unreadableRowFor.has(lead.email.toLowerCase())) {
        // The per-row failure shape is not documented: one the client does not know, naming neither id nor reason.
        return { RowNumber, LeadId: null, LeadCreated: false, LeadUpdated: false, Errors: [{ Code: 'E1042' }] };
      }
      const clash = this.store().uniqueClash(lead.email, lead.fields);
      if (clash) {
        const refusal = { ExceptionType: DUPLICATE_ENTRY, ExceptionMessage: duplicateText(clash.field) };
        return { RowNumber, LeadId: null, LeadCreated: false, LeadUpdated: false, ...refusal };
      }
      const { lead: stored, created } = this.store().upsertLead(lead.email, lead.fields);
      rows += 1;
      return { RowNumber, LeadId: stored.prospectId, LeadCreated: created, LeadUpdated: !created };
    });
    return { status: 200, body: results, rows, rowsRejected: results.length - rows, written };
  }

  /** Leads.GetByEmailaddress: flat lead objects, `[]` when no lead has the address. */
  getLeadByEmail(request: SimRequest): EndpointAnswer {
    const email = request.url.searchParams.get('emailaddress');
    if (!email) {
      return { status: 400, body: errorEnvelope(INVALID_INPUT, 'emailaddress is required'), outcome: 'invalid' };
    }
    const lead = this.store().leadByEmail(email);
    return { status: 200, body: lead ? [{ ProspectID: lead.prospectId, ...lead.fields }] : [] };
  }

  /** ProspectActivity.svc/Create on a lead given by ProspectID. */
  postActivity(request: SimRequest): EndpointAnswer {
    const parsed = parseBody(request, ActivityBodySchema);
    if ('refusal' in parsed) return { ...parsed.refusal, rowsRejected: 1 };
    const lead = this.store().leadByProspectId(parsed.data.RelatedProspectId);
    if (!lead) {
      const reason = `no lead has ProspectID '${parsed.data.RelatedProspectId}'`;
      const written = activityWritten(parsed.data.RelatedProspectId, parsed.data);
      return { status: 400, body: errorEnvelope(INVALID_INPUT, reason), outcome: 'rejected', rowsRejected: 1, written };
    }
    const activity = this.store().addActivity(lead, newActivity(lead, parsed.data));
    const written = activityWritten(lead.email, parsed.data);
    return { status: 200, body: { Status: 'Success', Message: { Id: activity.id } }, rows: 1, written };
  }

  /**
   * ProspectActivity.svc/Retrieve?leadId= (apidocs: get-activities-of-a-lead): the lead's activities (of one event if
   * asked), oldest first, a page at a time. `Paging.Offset` is the page number (from 0 here: the page's own example
   * asks for the first page with 0), 25 per page unless RowCount says otherwise. There is no top-level note or time:
   * the time is `CreatedOn`, the note and the custom fields are `Data` entries beside system keys.
   */
  retrieveActivities(request: SimRequest): EndpointAnswer {
    const leadId = request.url.searchParams.get('leadId') ?? '';
    const lead = this.store().leadByProspectId(leadId);
    if (!lead) {
      return {
        status: 400,
        body: errorEnvelope(INVALID_INPUT, `no lead has ProspectID '${leadId}'`),
        outcome: 'invalid',
      };
    }
    const parsed = parseBody(request, RetrieveActivitiesBodySchema);
    if ('refusal' in parsed) return parsed.refusal;
    const event = parsed.data.Parameter?.ActivityEvent;
    const matching = this.store()
      .activitiesOf(lead.prospectId)
      .filter((activity) => event === undefined || event === null || activity.event === event);
    const { Offset: page, RowCount } = parsed.data.Paging;
    const ProspectActivities = matching.slice(page * RowCount, (page + 1) * RowCount).map(retrievedActivity);
    return { status: 200, body: { RecordCount: matching.length, ProspectActivities } };
  }

  /** ProspectActivity.svc/Bulk/CustomActivity/Add/ByLeadField?searchBy=EmailAddress: per-row results under `Response`. */
  postActivitiesByLeadField(request: SimRequest): EndpointAnswer {
    const searchBy = request.url.searchParams.get('searchBy') ?? request.url.searchParams.get('SearchBy');
    if (searchBy?.toLowerCase() !== EMAIL_ATTRIBUTE.toLowerCase()) {
      const reason = `searchBy must be ${EMAIL_ATTRIBUTE} in this simulator, got '${searchBy ?? ''}'`;
      return { status: 400, body: errorEnvelope(INVALID_INPUT, reason), outcome: 'invalid' };
    }
    const parsed = parseBulk(request, this.limits.activitiesPerCall, 'activities', this.limits.batchTooLargeStatus);
    if ('refusal' in parsed) return parsed.refusal;
    let rows = 0;
    const written: WrittenRow[] = [];
    const Response = parsed.data.map((element, index) => {
      const RowNumber = index + 1;
      const activity = ActivityByLeadFieldSchema.safeParse(element);
      if (!activity.success) return { RowNumber, ...errorEnvelopeRow(issueText(activity.error)) };
      written.push(...activityWritten(activity.data.SearchByValue, activity.data));
      const lead = this.store().leadByEmail(activity.data.SearchByValue);
      if (!lead) {
        return { RowNumber, ...errorEnvelopeRow(`no lead has ${EMAIL_ATTRIBUTE} '${activity.data.SearchByValue}'`) };
      }
      const stored = this.store().addActivity(lead, newActivity(lead, activity.data));
      rows += 1;
      // As the page's example shows a posted row: its activity's Id (refusals carry their RowNumber).
      return { ProspectActivityId: stored.id };
    });
    return { status: 200, body: { Response }, rows, rowsRejected: Response.length - rows, written };
  }
}

/** The lead's email and fields, or why LeadSquared refuses it. Only the email is a match key here. */
function readLead(
  attributes: readonly { Attribute: string; Value: string }[],
): { email: string; fields: Record<string, string> } | { reason: string } {
  const fields: Record<string, string> = {};
  let searchBy: string | undefined;
  for (const { Attribute, Value } of attributes) {
    if (Attribute === 'SearchBy') searchBy = Value;
    else fields[Attribute] = Value;
  }
  if (searchBy !== undefined && searchBy !== EMAIL_ATTRIBUTE) {
    return { reason: `SearchBy '${searchBy}' is not supported by this simulator: use ${EMAIL_ATTRIBUTE}` };
  }
  const email = fields[EMAIL_ATTRIBUTE]?.trim();
  if (!email) return { reason: `${EMAIL_ATTRIBUTE} is required to find or create the lead` };
  if (!EmailSchema.safeParse(email).success) return { reason: `Invalid value '${email}' for ${EMAIL_ATTRIBUTE}` };
  return { email, fields: { ...fields, [EMAIL_ATTRIBUTE]: email } };
}

function newActivity(lead: StoredLead, body: ActivityBody | ActivityByLeadField): NewActivity {
  return { prospectId: lead.prospectId, ...activityContent(body) };
}

function activityContent(body: ActivityBody | ActivityByLeadField): Omit<NewActivity, 'prospectId'> {
  return {
    event: body.ActivityEvent,
    ...(body.ActivityNote ? { note: body.ActivityNote } : {}),
    ...(body.ActivityDateTime ? { dateTime: body.ActivityDateTime } : {}),
    fields: Object.fromEntries(body.Fields.map((f) => [f.SchemaName, f.Value])),
  };
}

/** The lead a create-or-update names by its email, as the log keys it: none when the body names no email. */
function leadWritten(attributes: readonly { Attribute: string; Value: string }[]): WrittenRow[] {
  const email = attributes
    .find((a) => a.Attribute === EMAIL_ATTRIBUTE)
    ?.Value.trim()
    .toLowerCase();
  return email ? [{ kind: 'lead', key: email }] : [];
}

/** An activity as the log keys it, on the lead its post names (an email, or a ProspectID no lead has). */
function activityWritten(lead: string, body: ActivityBody | ActivityByLeadField): WrittenRow[] {
  return [{ kind: 'activity', key: activityKey(lead.trim().toLowerCase(), activityContent(body)) }];
}

/** One activity as Retrieve documents it (the fields leadsync does not use carry the page's example values). */
function retrievedActivity(activity: StoredActivity) {
  return {
    Id: activity.id,
    EventCode: activity.event,
    EventName: `Custom Activity ${activity.event}`,
    ActivityScore: 0,
    CreatedOn: activity.createdOn,
    ActivityType: 2,
    Type: 'Inbound',
    IsEmailType: false,
    SessionId: activity.id,
    TrackLocation: 0,
    Latitude: null,
    Longitude: null,
    Data: [
      { Key: 'NotableEventDescription', Value: `Custom Activity ${activity.event}` },
      ...(activity.note === undefined ? [] : [{ Key: 'ActivityEvent_Note', Value: activity.note }]),
      ...Object.entries(activity.fields).map(([Key, Value]) => ({ Key, Value })),
    ],
  };
}

function duplicateText(field: string): string {
  return field === 'Phone'
    ? 'A Lead with same Phone Number already exists.'
    : `A Lead with same ${field} already exists.`;
}

function errorEnvelopeRow(reason: string) {
  return { ExceptionType: INVALID_INPUT, ExceptionMessage: reason };
}

type Parsed<T> = { data: T } | { refusal: EndpointAnswer };

function parseBody<T>(request: SimRequest, schema: z.ZodType<T>): Parsed<T> {
  if (request.bodyError) return invalid(`the body is not valid JSON: ${request.bodyError}`);
  const parsed = schema.safeParse(request.body);
  return parsed.success ? { data: parsed.data } : invalid(issueText(parsed.error));
}

/** A bulk body: an array of at most `max` elements, refused whole when larger, as LeadSquared refuses it. */
function parseBulk(request: SimRequest, max: number, noun: string, status: number): Parsed<unknown[]> {
  const parsed = parseBody(request, BulkBodySchema);
  if ('refusal' in parsed) return parsed;
  if (parsed.data.length > max) {
    const reason = `Batch too large: ${parsed.data.length} ${noun} sent, maximum allowed is ${max}`;
    return { refusal: { status, body: errorEnvelope(INVALID_INPUT, reason), outcome: 'invalid' } };
  }
  return parsed;
}

function invalid(reason: string): { refusal: EndpointAnswer } {
  return { refusal: { status: 400, body: errorEnvelope(INVALID_INPUT, reason), outcome: 'invalid' } };
}

function issueText(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid input';
  return issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message;
}
