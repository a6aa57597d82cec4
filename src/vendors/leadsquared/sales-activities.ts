import type { FieldProblem, VendorRecord } from '../types.js';
import { EMAIL_ATTRIBUTE, checkLead } from './fields.js';

/** One activity to post on a lead. `row` is the 1-based source row, as for leads. */
export interface ActivityRecord {
  row: number;
  /** The activity type's code (ActivityEvent), from the account's Custom Activities settings. */
  event: number;
  note?: string;
  /** When it happened; now, by the vendor's clock, when absent. */
  at?: Date;
  /** Custom activity fields by schema name (mx_Custom_1...). */
  fields?: Record<string, string>;
}

/** An activity for the bulk endpoint that finds its lead by email rather than by ProspectID. */
export interface ActivityByEmail extends ActivityRecord {
  email: string;
}

interface ActivityBody {
  ActivityEvent: number;
  ActivityNote?: string;
  ActivityDateTime?: string;
  Fields: { SchemaName: string; Value: string }[];
}

/** ProspectActivity.svc/Create. */
export function activityBody(
  prospectId: string,
  activity: ActivityRecord,
): ActivityBody & { RelatedProspectId: string } {
  return { RelatedProspectId: prospectId, ...commonBody(activity) };
}

/** ProspectActivity.svc/Bulk/CustomActivity/Add/ByLeadField?searchBy=EmailAddress, one element per activity. */
export function activityByEmailBody(activity: ActivityByEmail): ActivityBody & { SearchByValue: string } {
  return { SearchByValue: activity.email, ...commonBody(activity) };
}

/** The names a vendor reason about this activity may mention. */
export function activityFieldNames(activity: ActivityRecord): string[] {
  return ['ActivityEvent', 'ActivityNote', 'ActivityDateTime', ...Object.keys(activity.fields ?? {})];
}

/** LeadSquared takes activity times in UTC as 'YYYY-MM-DD HH:MM:SS'. */
export function formatActivityDateTime(at: Date): string {
  return at.toISOString().slice(0, 19).replace('T', ' ');
}

function commonBody(activity: ActivityRecord): ActivityBody {
  return {
    ActivityEvent: activity.event,
    ...(activity.note === undefined ? {} : { ActivityNote: activity.note }),
    ...(activity.at === undefined ? {} : { ActivityDateTime: formatActivityDateTime(activity.at) }),
    Fields: Object.entries(activity.fields ?? {}).map(([SchemaName, Value]) => ({ SchemaName, Value })),
  };
}

/** The Data key under which Retrieve gives an activity's note back (apidocs: get-activities-of-a-lead). */
export const NOTE_DATA_KEY = 'ActivityEvent_Note';

/** An activity as ProspectActivity.svc/Retrieve gives it back: its event, its time and its Data entries by key. */
export interface RetrievedActivity {
  /** The vendor's Id, when given: pages that overlap do not count one activity twice. */
  id?: string;
  event: number;
  /** `CreatedOn`, 'YYYY-MM-DD HH:MM:SS' UTC. */
  createdOn?: string;
  data: Record<string, string>;
}

/**
 * Whether a stored activity is the one about to be sent: the same event, the same note, the same time when the row
 * gives one (without one the vendor stamps its own), and the same value for every custom field the row sends. Data
 * keys leadsync does not send (NotableEventDescription and other system keys) are not compared. A retried post asks
 * this of what the lead already has, so an activity whose first post landed but whose answer was lost is not posted
 * twice.
 */
export function isSameActivity(stored: RetrievedActivity, activity: ActivityRecord): boolean {
  if (stored.event !== activity.event) return false;
  if ((stored.data[NOTE_DATA_KEY] ?? '') !== (activity.note ?? '')) return false;
  if (activity.at !== undefined) {
    const createdOn = (stored.createdOn ?? '').trim().replace('T', ' ').slice(0, 19);
    if (createdOn !== formatActivityDateTime(activity.at)) return false;
  }
  return Object.entries(activity.fields ?? {}).every(([name, value]) => (stored.data[name] ?? '') === value);
}

/** The vendor field names an activity row maps its columns to (custom activity fields are mx_...). */
export const ACTIVITY_EVENT = 'ActivityEvent';
export const ACTIVITY_NOTE = 'ActivityNote';
export const ACTIVITY_DATE_TIME = 'ActivityDateTime';
const ACTIVITY_FIELD = /^mx_[A-Za-z0-9_]+$/;
const MAX_NOTE_CHARS = 2000;
/** A time without a zone is UTC, as LeadSquared reads ActivityDateTime. */
const ZONED = /(Z|[+-]\d\d(:?\d\d)?)$/i;

function parseActivityTime(text: string): Date | undefined {
  const iso = text.trim().replace(' ', 'T');
  const at = new Date(ZONED.test(iso) ? iso : `${iso}Z`);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/**
 * LeadSquared's rules on an activity row, checked before it is sent; each problem names its field. The lead's
 * email is checked as for a lead, since the activity is posted on the lead that has it.
 */
export function checkActivity(fields: Record<string, string>): FieldProblem[] {
  const problems = checkLead({ [EMAIL_ATTRIBUTE]: fields[EMAIL_ATTRIBUTE] ?? '' }).map((p) =>
    p.field === EMAIL_ATTRIBUTE
      ? { ...p, reason: p.reason.replace('leads are upserted', 'activities find their lead') }
      : p,
  );
  const event = fields[ACTIVITY_EVENT];
  if (event === undefined || !/^\d+$/.test(event) || Number(event) < 1) {
    problems.push({
      field: ACTIVITY_EVENT,
      reason: `${event === undefined ? 'is required:' : `'${event}' is not`} an activity type code (a positive whole number)`,
    });
  }
  const at = fields[ACTIVITY_DATE_TIME];
  if (at !== undefined && !parseActivityTime(at)) {
    problems.push({ field: ACTIVITY_DATE_TIME, reason: `'${at}' is not a date and time` });
  }
  const note = fields[ACTIVITY_NOTE];
  if (note !== undefined && note.length > MAX_NOTE_CHARS) {
    problems.push({ field: ACTIVITY_NOTE, reason: `is ${note.length} characters, over the ${MAX_NOTE_CHARS} allowed` });
  }
  for (const name of Object.keys(fields)) {
    if ([EMAIL_ATTRIBUTE, ACTIVITY_EVENT, ACTIVITY_NOTE, ACTIVITY_DATE_TIME].includes(name)) continue;
    if (!ACTIVITY_FIELD.test(name)) {
      problems.push({
        field: name,
        reason: `is not an activity field (${ACTIVITY_EVENT}, ${ACTIVITY_NOTE}, ${ACTIVITY_DATE_TIME}, or custom mx_...)`,
      });
    }
  }
  return problems;
}

/** An activity row that checkActivity passed, as the bulk-by-email endpoint takes it. */
export function activityFromRecord({ row, email, fields }: VendorRecord): ActivityByEmail {
  const custom = Object.entries(fields).filter(([name]) => ACTIVITY_FIELD.test(name));
  const note = fields[ACTIVITY_NOTE];
  const at = fields[ACTIVITY_DATE_TIME];
  return {
    row,
    email,
    event: Number(fields[ACTIVITY_EVENT]),
    ...(note === undefined ? {} : { note }),
    ...(at === undefined ? {} : { at: parseActivityTime(at)! }),
    ...(custom.length > 0 ? { fields: Object.fromEntries(custom) } : {}),
  };
}
