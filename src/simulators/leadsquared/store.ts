import { randomUUID } from 'node:crypto';
import { ShardedMap } from '../core/sharded-map.js';

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
  fields: Record<string, string>;
}

export type NewActivity = Omit<StoredActivity, 'id' | 'email'>;

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
  private readonly activityKeys = new Set<string>();
  private created = 0;
  private updated = 0;
  private duplicateActivities = 0;

  upsertLead(email: string, fields: Record<string, string>): { lead: StoredLead; created: boolean } {
    const existing = this.byEmail.get(email.toLowerCase());
    if (existing) {
      Object.assign(existing.fields, fields);
      existing.writes += 1;
      this.updated += 1;
      return { lead: existing, created: false };
    }
    const lead: StoredLead = { prospectId: randomUUID(), email, fields: { ...fields }, writes: 1 };
    this.byEmail.set(email.toLowerCase(), lead);
    this.byProspectId.set(lead.prospectId, lead);
    this.all.push(lead);
    this.created += 1;
    return { lead, created: true };
  }

  leadByEmail(email: string): StoredLead | undefined {
    return this.byEmail.get(email.toLowerCase());
  }

  leadByProspectId(prospectId: string): StoredLead | undefined {
    return this.byProspectId.get(prospectId);
  }

  addActivity(lead: StoredLead, activity: NewActivity): StoredActivity {
    const stored: StoredActivity = { ...activity, id: randomUUID(), email: lead.email };
    const key = JSON.stringify([
      lead.prospectId,
      activity.event,
      activity.note ?? '',
      activity.dateTime ?? '',
      Object.entries(activity.fields).sort(([a], [b]) => a.localeCompare(b)),
    ]);
    if (this.activityKeys.has(key)) this.duplicateActivities += 1;
    else this.activityKeys.add(key);
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
