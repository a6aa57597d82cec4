import { z } from 'zod';
import type { FieldProblem, VendorLead, VendorRecord } from '../types.js';
import type { CampaignLead, SmartLeadLead } from './schemas.js';

/**
 * How a source row names SmartLead fields. `email` and SmartLead's own lead fields go by their API names; a custom
 * field goes by `custom_fields.<name>`, the path it takes in the request body, so it can never be mistaken for a
 * standard field (a bare `custom_` prefix could be) and `{{<name>}}` in a sequence reads exactly what was mapped.
 */
export const EMAIL_FIELD = 'email';
export const STANDARD_FIELDS = [
  'first_name',
  'last_name',
  'phone_number',
  'company_name',
  'website',
  'location',
  'linkedin_profile',
  'company_url',
] as const;
export const CUSTOM_FIELD_PREFIX = 'custom_fields.';

/** Documented for lead updates ("maximum 200 key-value pairs"); held for uploads too. */
export const MAX_CUSTOM_FIELDS = 200;

/**
 * SmartLead publishes no field lengths. The email's is the address's own (RFC 5321: 254); the others are ours, so
 * that an oversized value becomes a reject naming its field here rather than a 422 for the whole batch there.
 */
export const MAX_LENGTH = { email: 254, standard: 255, customName: 100, customValue: 2_000 } as const;

const standardFields: ReadonlySet<string> = new Set(STANDARD_FIELDS);
const EmailSchema = z.email();

/** Every problem of one row's fields, each naming its field. Empty values are fine: they are not sent. */
export function checkLead(fields: Record<string, string>): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const email = fields[EMAIL_FIELD]?.trim() ?? '';
  if (!email) problems.push({ field: EMAIL_FIELD, reason: 'every SmartLead lead needs an email address' });
  else if (email.length > MAX_LENGTH.email) problems.push(tooLong(EMAIL_FIELD, MAX_LENGTH.email, email));
  else if (!EmailSchema.safeParse(email).success) {
    problems.push({ field: EMAIL_FIELD, reason: `'${email}' is not a valid email address` });
  }

  let customFields = 0;
  for (const [field, value] of Object.entries(fields)) {
    if (field === EMAIL_FIELD) continue;
    if (standardFields.has(field)) {
      if (value.length > MAX_LENGTH.standard) problems.push(tooLong(field, MAX_LENGTH.standard, value));
    } else if (field.startsWith(CUSTOM_FIELD_PREFIX)) {
      customFields += 1;
      const name = field.slice(CUSTOM_FIELD_PREFIX.length);
      if (!name.trim()) problems.push({ field, reason: `a custom field needs a name after '${CUSTOM_FIELD_PREFIX}'` });
      else if (name.length > MAX_LENGTH.customName) {
        problems.push({ field, reason: `custom field names are at most ${MAX_LENGTH.customName} characters` });
      }
      if (value.length > MAX_LENGTH.customValue) problems.push(tooLong(field, MAX_LENGTH.customValue, value));
    } else {
      problems.push({
        field,
        reason: `SmartLead has no lead field '${field}' (known: ${EMAIL_FIELD}, ${STANDARD_FIELDS.join(', ')}; custom fields as ${CUSTOM_FIELD_PREFIX}<name>)`,
      });
    }
  }
  if (customFields > MAX_CUSTOM_FIELDS) {
    problems.push({
      field: CUSTOM_FIELD_PREFIX.slice(0, -1),
      reason: `${customFields} custom fields, SmartLead takes at most ${MAX_CUSTOM_FIELDS}`,
    });
  }
  return problems;
}

/**
 * The lead as the API takes it, from a row checkLead passed. Blank values are left out, so a blank cell never
 * erases what SmartLead holds.
 */
export function toSmartLeadLead(record: VendorRecord): SmartLeadLead {
  const lead: SmartLeadLead = { email: record.email.trim() };
  const custom: Record<string, string> = {};
  for (const [field, value] of Object.entries(record.fields)) {
    if (field === EMAIL_FIELD || value.trim() === '') continue;
    if (field.startsWith(CUSTOM_FIELD_PREFIX)) custom[field.slice(CUSTOM_FIELD_PREFIX.length)] = value;
    else if (standardFields.has(field)) lead[field as (typeof STANDARD_FIELDS)[number]] = value;
  }
  if (Object.keys(custom).length > 0) lead.custom_fields = custom;
  return lead;
}

/** A lead of a campaign's list by the names a source row maps to (custom fields as `custom_fields.<name>`). */
export function fromSmartLeadLead(lead: CampaignLead['lead']): VendorLead {
  const fields: Record<string, string> = { [EMAIL_FIELD]: lead.email };
  for (const name of STANDARD_FIELDS) fields[name] = lead[name] ?? '';
  for (const [name, value] of Object.entries(lead.custom_fields ?? {})) {
    fields[`${CUSTOM_FIELD_PREFIX}${name}`] = value === null || value === undefined ? '' : String(value);
  }
  return { email: lead.email, fields };
}

function tooLong(field: string, max: number, value: string): FieldProblem {
  return { field, reason: `${value.length} characters long, the limit is ${max}` };
}
