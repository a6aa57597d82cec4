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
