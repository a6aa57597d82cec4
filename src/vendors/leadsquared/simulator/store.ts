import { randomUUID } from 'node:crypto';
import { ShardedMap } from '../../../simulation/sharded-map.js';

/** A lead as the simulator holds it; `writes` counts the upserts that reached it, creation included. */
export interface StoredLead {
  prospectId: string;
  email: string;
  fields: Record<string, string>;
  writes: number;
}

export interface StoredActivity {
  id: string;
  prospectId: string;
  email: string;
  event: number;
  note?: string;
  dateTime?: string;
  /** When the vendor stored it, 'YYYY-MM-DD HH:MM:SS' UTC: the ActivityDateTime sent, or the time of the post. */
  createdOn: string;
  fields: Record<string, string>;
  /** Posts of this same activity (lead, event, note, time, fields) so far, this one included: 1 unless resent. */
  writes: number;
}

export type NewActivity = Omit<StoredActivity, 'id' | 'email' | 'createdOn' | 'writes'>;

/** What makes two posts the same activity: its lead (however named), event, note, time and fields. */
export function activityKey(lead: string, activity: Omit<NewActivity, 'prospectId'>): string {
  return JSON.stringify([
    lead,
    activity.event,
    activity.note ?? '',
    activity.dateTime ?? '',
    Object.entries(activity.fields).sort(([a], [b]) => a.localeCompare(b)),
  ]);
}

/** A lead field whose value another lead already has, when the field is unique (LeadSquared: Phone by default). */
export interface UniqueFieldClash {
  field: string;
  holder: StoredLead;
}

/**
 * Leads by email (case-insensitive, as LeadSquared matches them) and the activities posted on them. Activities are
 * not idempotent at the vendor either: one identical to an earlier one is stored again, and counted as a duplicate.
 */
export class LeadSquaredStore {
  private readonly byEmail = new ShardedMap<StoredLead>();
  private readonly byProspectId = new ShardedMap<StoredLead>();
  /** In order of creation, as the admin API pages them. */
  private readonly all: StoredLead[] = [];
  private readonly posted: StoredActivity[] = [];
  private readonly activityWrites = new Map<string, number>();
  private created = 0;
  private updated = 0;
  private duplicateActivities = 0;

  /** Unique lead fields other than the email (LeadSquared: Phone by default), by field, then by value. */
  private readonly uniqueValues = new Map<string, Map<string, StoredLead>>();

  constructor(uniqueFields: readonly string[] = []) {
    for (const field of uniqueFields) this.uniqueValues.set(field, new Map());
  }

  /**
   * Another lead holding the value this upsert gives a unique field: LeadSquared refuses the write (EmailAddress and
   * Phone are unique by default; apidocs: create-leads-in-bulk). The lead matched by email may keep its own value.
   */
  uniqueClash(email: string, fields: Record<string, string>): UniqueFieldClash | undefined {
    for (const [field, holders] of this.uniqueValues) {
      const value = fields[field]?.trim();
      const holder = value ? holders.get(value) : undefined;
      if (holder && holder.email.toLowerCase() !== email.toLowerCase()) return { field, holder };
    }
    return undefined;
  }

  upsertLead(email: string, fields: Record<string, string>): { lead: StoredLead; created: boolean } {
    const existing = this.byEmail.get(email.toLowerCase());
    if (existing) {
      for (const [field, holders] of this.uniqueValues) {
        const before = existing.fields[field]?.trim();
        if (before && fields[field] !== undefined) holders.delete(before);
      }
      Object.assign(existing.fields, fields);
      this.indexUnique(existing);
      existing.writes += 1;
      this.updated += 1;
      return { lead: existing, created: false };
    }
    const lead: StoredLead = { prospectId: randomUUID(), email, fields: { ...fields }, writes: 1 };
    this.byEmail.set(email.toLowerCase(), lead);
    this.byProspectId.set(lead.prospectId, lead);
    this.all.push(lead);
    this.indexUnique(lead);
    this.created += 1;
    return { lead, created: true };
  }

  /**
   * Deletes leads by email, as a person cleaning up in LeadSquared would (merging a duplicate, deleting a test lead):
   * the values of unique fields they held are free again. Their activities stay, as the admin report counts them.
   */
  deleteLeads(emails: readonly string[]): number {
    let deleted = 0;
    for (const email of emails) {
      const lead = this.byEmail.get(email.toLowerCase());
      if (!lead) continue;
      this.byEmail.delete(email.toLowerCase());
      this.byProspectId.delete(lead.prospectId);
      this.all.splice(this.all.indexOf(lead), 1);
      for (const [field, holders] of this.uniqueValues) {
        const value = lead.fields[field]?.trim();
        if (value && holders.get(value) === lead) holders.delete(value);
      }
      deleted += 1;
    }
    return deleted;
  }

  private indexUnique(lead: StoredLead): void {
    for (const [field, holders] of this.uniqueValues) {
      const value = lead.fields[field]?.trim();
      if (value) holders.set(value, lead);
    }
  }

  leadByEmail(email: string): StoredLead | undefined {
    return this.byEmail.get(email.toLowerCase());
  }

  leadByProspectId(prospectId: string): StoredLead | undefined {
    return this.byProspectId.get(prospectId);
  }

  addActivity(lead: StoredLead, activity: NewActivity, now = new Date()): StoredActivity {
    const key = activityKey(lead.prospectId, activity);
    const writes = (this.activityWrites.get(key) ?? 0) + 1;
    this.activityWrites.set(key, writes);
    if (writes > 1) this.duplicateActivities += 1;
    const createdOn = activity.dateTime ?? now.toISOString().slice(0, 19).replace('T', ' ');
    const stored: StoredActivity = { ...activity, id: randomUUID(), email: lead.email, createdOn, writes };
    this.posted.push(stored);
    return stored;
  }

  activitiesOf(prospectId: string): StoredActivity[] {
    return this.posted.filter((activity) => activity.prospectId === prospectId);
  }

  leads(): StoredLead[] {
    return [...this.all];
  }

  activities(): readonly StoredActivity[] {
    return this.posted;
  }

  counts(): { leads: number; created: number; updated: number; activities: number; duplicates: number } {
    return {
      leads: this.byEmail.size,
      created: this.created,
      updated: this.updated,
      activities: this.posted.length,
      duplicates: this.duplicateActivities,
    };
  }
}
