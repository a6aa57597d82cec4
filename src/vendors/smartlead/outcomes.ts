import { UnexpectedResponseError } from '../errors.js';
import type { LeadRecord, RowOutcome } from '../types.js';
import { EMAIL_FIELD } from './fields.js';
import type { AddLeadsResult } from './schemas.js';

const INVALID_EMAIL = /invalid.*email|email.*invalid/i;

/**
 * One outcome per row sent. A row whose address SmartLead names as refused is rejected with its reason; every other
 * row is accepted, including those already in the campaign (the upload is idempotent by email) and repeats of an
 * address within the batch. Addresses match case-insensitively, as SmartLead dedupes them.
 *
 * A refusal the answer counts but does not name cannot be placed on a row, and guessing would either lose a row or
 * reject a good one: the call fails instead, saying what to change.
 */
export function addLeadsOutcomes(call: string, result: AddLeadsResult, sent: readonly LeadRecord[]): RowOutcome[] {
  if (result.unnamedRefusals.length > 0) {
    const what = result.unnamedRefusals.map((r) => `${r.count} ${r.reason}`).join(', ');
    throw new UnexpectedResponseError(
      `${call}: SmartLead refused leads without naming them (${what}); remove them from the source, or set the ` +
        `target's settings (ignore_global_block_list, ignore_unsubscribe_list) to let them in`,
    );
  }
  const refused = new Map(result.refused.map((r) => [normalise(r.email), r.reason]));
  return sent.map((lead): RowOutcome => {
    const reason = refused.get(normalise(lead.email));
    if (reason === undefined) return { row: lead.row, status: 'accepted' };
    return INVALID_EMAIL.test(reason)
      ? { row: lead.row, status: 'rejected', field: EMAIL_FIELD, reason }
      : { row: lead.row, status: 'rejected', reason };
  });
}

function normalise(email: string): string {
  return email.trim().toLowerCase();
}
