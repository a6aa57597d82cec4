import { z } from 'zod';
import type { FieldProblem, VendorRecord } from '../types.js';

/** A lead as LeadSquared takes it: attribute-value pairs, by schema name. */
export interface Attribute {
  Attribute: string;
  Value: string;
}

export const EMAIL_ATTRIBUTE = 'EmailAddress';

/** The standard lead fields leadsync writes; everything else must be a custom field (`mx_...`). */
export const STANDARD_ATTRIBUTES: readonly string[] = [
  'EmailAddress',
  'FirstName',
  'LastName',
  'Phone',
  'Mobile',
  'Company',
  'JobTitle',
  'Source',
  'City',
  'State',
  'Country',
  'Website',
  'Notes',
];
const CUSTOM_ATTRIBUTE = /^mx_[A-Za-z0-9_]+$/;
const MAX_EMAIL_CHARS = 100;
const MAX_VALUE_CHARS = 200;
const MAX_NOTES_CHARS = 2000;
const EmailSchema = z.email();

/**
 * The attribute array of an upsert matched by email. Empty values are left out: a blank cell in a source means
 * "not known here", and sending it would erase what the lead already has in LeadSquared.
 */
export function leadAttributes(lead: VendorRecord): Attribute[] {
  const attributes: Attribute[] = [{ Attribute: EMAIL_ATTRIBUTE, Value: lead.email }];
  for (const [name, value] of Object.entries(lead.fields)) {
    if (name !== EMAIL_ATTRIBUTE && value !== '') attributes.push({ Attribute: name, Value: value });
  }
  attributes.push({ Attribute: 'SearchBy', Value: EMAIL_ATTRIBUTE });
  return attributes;
}

/** The names a vendor reason about this lead may mention, to say which field was at fault. */
export function leadFieldNames(lead: VendorRecord): string[] {
  return [EMAIL_ATTRIBUTE, ...Object.keys(lead.fields).filter((name) => name !== EMAIL_ATTRIBUTE)];
}

/** LeadSquared's rules on a lead's fields, checked before it is sent; each problem names its field. */
export function checkLead(fields: Record<string, string>): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const email = fields[EMAIL_ATTRIBUTE];
  if (email === undefined || email.trim() === '') {
    problems.push({ field: EMAIL_ATTRIBUTE, reason: 'is required: leads are upserted by email' });
  } else if (email.length > MAX_EMAIL_CHARS) {
    problems.push({
      field: EMAIL_ATTRIBUTE,
      reason: `is ${email.length} characters, over the ${MAX_EMAIL_CHARS} allowed`,
    });
  } else if (!EmailSchema.safeParse(email).success) {
    problems.push({ field: EMAIL_ATTRIBUTE, reason: `'${email}' is not a valid email address` });
  }
  for (const [name, value] of Object.entries(fields)) {
    if (!STANDARD_ATTRIBUTES.includes(name) && !CUSTOM_ATTRIBUTE.test(name)) {
      problems.push({
        field: name,
        reason: `is not a LeadSquared lead field (standard: ${STANDARD_ATTRIBUTES.join(', ')}; custom fields are mx_ followed by letters, digits or _)`,
      });
      continue;
    }
    const max = name === 'Notes' ? MAX_NOTES_CHARS : MAX_VALUE_CHARS;
    if (name !== EMAIL_ATTRIBUTE && value.length > max) {
      problems.push({ field: name, reason: `is ${value.length} characters, over the ${max} allowed` });
    }
  }
  return problems;
}
