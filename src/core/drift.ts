/**
 * What a reconciliation finds when it holds the vendor's copy of a lead against the source row it came from. Only
 * the fields the sync writes are compared, each as the vendor would store it: trimmed, Unicode-normalised, an email
 * in lower case (vendors match leads by email case-insensitively).
 */

/** One field whose value at the vendor is not the source's. */
export interface FieldDrift {
  field: string;
  source: string;
  vendor: string;
}

export type LeadDrift = { kind: 'missing' } | { kind: 'differs'; fields: FieldDrift[] };

/** A value as the comparison reads it. */
export function normalised(field: string, value: string, emailField: string): string {
  const text = value.normalize('NFC').trim();
  return field === emailField ? text.toLowerCase() : text;
}

/**
 * The drift of one lead: missing at the vendor, or the fields that differ; undefined when the vendor holds what the
 * source says. A blank source value is never sent (it would erase what the vendor has), so it is never a difference.
 */
export function compareLead(
  source: Readonly<Record<string, string>>,
  vendor: Readonly<Record<string, string>> | undefined,
  emailField: string,
): LeadDrift | undefined {
  if (vendor === undefined) return { kind: 'missing' };
  const fields: FieldDrift[] = [];
  for (const [field, value] of Object.entries(source)) {
    const expected = normalised(field, value, emailField);
    if (expected === '') continue;
    const held = vendor[field] ?? '';
    if (normalised(field, held, emailField) !== expected) fields.push({ field, source: value, vendor: held });
  }
  return fields.length > 0 ? { kind: 'differs', fields } : undefined;
}
