import { z } from 'zod';
import { CUSTOM_FIELD_PREFIX } from '../fields.js';
import { STANDARD_FIELDS, type AddLeadsSettings, type Lead } from './schemas.js';

export interface StoredCampaign {
  id: number;
  name: string;
  status: string;
  createdAt: string;
}

/** A lead in one campaign. `leadId` is the lead's own id, the same in every campaign it is in. */
export interface StoredCampaignLead {
  campaignId: number;
  campaignLeadMapId: number;
  leadId: number;
  email: string;
  fields: Partial<Record<(typeof STANDARD_FIELDS)[number], string>>;
  customFields: Record<string, string>;
  createdAt: string;
}

/** What one upload did, in the terms of SmartLead's classic answer. */
export interface UploadResult {
  uploaded: number;
  alreadyAdded: string[];
  duplicates: string[];
  invalid: string[];
  blocked: string[];
  bounced: string[];
  unsubscribed: string[];
}

/** Lists that refuse leads unless an upload's settings say to ignore them. */
export interface Suppression {
  blocked: ReadonlySet<string>;
  bounced: ReadonlySet<string>;
  unsubscribed: ReadonlySet<string>;
}

interface CampaignLeads {
  byEmail: Map<string, StoredCampaignLead>;
  byLeadId: Map<number, StoredCampaignLead>;
  order: StoredCampaignLead[];
}

const EmailSchema = z.email();

/** Campaigns and their leads, deduplicated by email (case-insensitive) within each campaign. */
export class SmartLeadStore {
  private readonly campaignsById = new Map<number, StoredCampaign>();
  private readonly leadsByCampaign = new Map<number, CampaignLeads>();
  private readonly leadIds = new Map<string, number>();
  private nextCampaignId = 1;
  private nextMapId = 1;
  private counts = { created: 0, updated: 0, leads: 0 };

  addCampaign(seed: { id?: number; name?: string; status: string }): StoredCampaign {
    const id = seed.id ?? this.nextCampaignId;
    if (this.campaignsById.has(id)) throw new Error(`campaign ${id} exists already`);
    this.nextCampaignId = Math.max(this.nextCampaignId, id + 1);
    const campaign = {
      id,
      name: seed.name ?? `Campaign ${id}`,
      status: seed.status,
      createdAt: new Date().toISOString(),
    };
    this.campaignsById.set(id, campaign);
    this.leadsByCampaign.set(id, { byEmail: new Map(), byLeadId: new Map(), order: [] });
    return campaign;
  }

  campaign(id: number): StoredCampaign | undefined {
    return this.campaignsById.get(id);
  }

  campaigns(): StoredCampaign[] {
    return [...this.campaignsById.values()];
  }

  /** Adds the leads one by one, as SmartLead does: invalid, repeated, suppressed and present ones are counted, not added. */
  upload(
    campaignId: number,
    leads: readonly Lead[],
    settings: AddLeadsSettings,
    suppression: Suppression,
  ): UploadResult {
    const campaign = this.campaignLeads(campaignId);
    const result: UploadResult = {
      uploaded: 0,
      alreadyAdded: [],
      duplicates: [],
      invalid: [],
      blocked: [],
      bounced: [],
      unsubscribed: [],
    };
    const seen = new Set<string>();
    for (const lead of leads) {
      const email = lead.email.trim();
      const key = email.toLowerCase();
      if (!EmailSchema.safeParse(email).success) result.invalid.push(lead.email);
      else if (seen.has(key)) result.duplicates.push(email);
      else if (campaign.byEmail.has(key)) result.alreadyAdded.push(email);
      else if (!settings.ignore_global_block_list && suppression.blocked.has(key)) result.blocked.push(email);
      else if (!settings.ignore_community_bounce_list && suppression.bounced.has(key)) result.bounced.push(email);
      else if (!settings.ignore_unsubscribe_list && suppression.unsubscribed.has(key)) result.unsubscribed.push(email);
      else {
        this.add(campaignId, email, lead);
        result.uploaded += 1;
      }
      seen.add(key);
    }
    return result;
  }

  lead(campaignId: number, leadId: number): StoredCampaignLead | undefined {
    return this.campaignLeads(campaignId).byLeadId.get(leadId);
  }

  /** The lead's fields as given; its email may change, and then it is found by the new one. */
  update(lead: StoredCampaignLead, changes: Lead): void {
    const campaign = this.campaignLeads(lead.campaignId);
    campaign.byEmail.delete(lead.email.toLowerCase());
    lead.email = changes.email.trim();
    campaign.byEmail.set(lead.email.toLowerCase(), lead);
    Object.assign(lead.fields, fieldsOf(changes));
    Object.assign(lead.customFields, customFieldsOf(changes));
    this.counts.updated += 1;
  }

  /** The lead's fields changed in SmartLead's app, in every campaign it is in: no write is counted. */
  editLead(email: string, changes: Record<string, string>): boolean {
    const leads = this.withEmail(email);
    for (const lead of leads) {
      for (const [field, value] of Object.entries(changes)) {
        if (field.startsWith(CUSTOM_FIELD_PREFIX)) lead.customFields[field.slice(CUSTOM_FIELD_PREFIX.length)] = value;
        else if ((STANDARD_FIELDS as readonly string[]).includes(field)) {
          lead.fields[field as (typeof STANDARD_FIELDS)[number]] = value;
        }
      }
    }
    return leads.length > 0;
  }

  /** The lead deleted from every campaign it is in. */
  deleteLead(email: string): boolean {
    const leads = this.withEmail(email);
    for (const lead of leads) {
      const campaign = this.campaignLeads(lead.campaignId);
      campaign.byEmail.delete(lead.email.toLowerCase());
      campaign.byLeadId.delete(lead.leadId);
      campaign.order.splice(campaign.order.indexOf(lead), 1);
      this.counts.leads -= 1;
    }
    return leads.length > 0;
  }

  private withEmail(email: string): StoredCampaignLead[] {
    return [...this.leadsByCampaign.values()].flatMap((c) => c.byEmail.get(email.trim().toLowerCase()) ?? []);
  }

  /** A campaign's leads in the order they were added. */
  leads(campaignId: number): readonly StoredCampaignLead[] {
    return this.campaignLeads(campaignId).order;
  }

  allLeads(): StoredCampaignLead[] {
    return [...this.leadsByCampaign.values()].flatMap((c) => c.order);
  }

  totals(): { leads: number; created: number; updated: number } {
    return { ...this.counts };
  }

  private add(campaignId: number, email: string, lead: Lead): void {
    const key = email.toLowerCase();
    let leadId = this.leadIds.get(key);
    if (leadId === undefined) {
      leadId = this.leadIds.size + 1;
      this.leadIds.set(key, leadId);
    }
    const stored: StoredCampaignLead = {
      campaignId,
      campaignLeadMapId: this.nextMapId++,
      leadId,
      email,
      fields: fieldsOf(lead),
      customFields: customFieldsOf(lead),
      createdAt: new Date().toISOString(),
    };
    const campaign = this.campaignLeads(campaignId);
    campaign.byEmail.set(key, stored);
    campaign.byLeadId.set(leadId, stored);
    campaign.order.push(stored);
    this.counts.created += 1;
    this.counts.leads += 1;
  }

  private campaignLeads(campaignId: number): CampaignLeads {
    const campaign = this.leadsByCampaign.get(campaignId);
    if (!campaign) throw new Error(`no campaign ${campaignId}`);
    return campaign;
  }
}

/** A lead as the request log keys its writes: per campaign and address, SmartLead's unit of deduplication. */
export function campaignLeadKey(campaignId: number, email: string): string {
  return `${campaignId}:${email.trim().toLowerCase()}`;
}

function fieldsOf(lead: Lead): StoredCampaignLead['fields'] {
  const fields: StoredCampaignLead['fields'] = {};
  for (const name of STANDARD_FIELDS) {
    const value = lead[name];
    if (value !== undefined && value !== null) fields[name] = value;
  }
  return fields;
}

function customFieldsOf(lead: Lead): Record<string, string> {
  return Object.fromEntries(
    Object.entries(lead.custom_fields ?? {}).filter((entry): entry is [string, string] => entry[1] !== null),
  );
}
