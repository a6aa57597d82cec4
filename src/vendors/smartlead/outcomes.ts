import type { VendorRecord, RowOutcome, UnattributedRefusal } from '../types.js';
import { EMAIL_FIELD } from './fields.js';
import { NOT_ADDED_WITHOUT_REASON, type AddLeadsResult } from './schemas.js';

const INVALID_EMAIL = /invalid.*email|email.*invalid/i;

/** What an add-leads answer says of the rows sent: one outcome per row, and the refusals no row can be named for. */
export interface AddLeadsOutcomes {
  outcomes: RowOutcome[];
  unattributed: UnattributedRefusal[];
}

/**
 * One outcome per row sent. A row whose address SmartLead names as refused is rejected with its reason; every other
 * row is accepted, including those already in the campaign (the upload is idempotent by email) and repeats of an
 * address within the batch. Addresses match case-insensitively, as SmartLead dedupes them.
 *
 * A refusal the answer counts but does not name (blocked, bounced, a count of unsubscribed) cannot be placed on a
 * row, and guessing would either lose a row or reject a good one: it is returned as a count with its reason, never
 * more than the rows left accepted, so the chunk's counts still add up to the rows sent. Where the answer counts the
 * leads in the campaign (added, already there, repeated), rows beyond those and beyond every stated refusal were not
 * added either: SmartLead's own fields say so, whatever its wording.
 */
export function addLeadsOutcomes(result: AddLeadsResult, sent: readonly VendorRecord[]): AddLeadsOutcomes {
  const refused = new Map(result.refused.map((r) => [normalise(r.email), r.reason]));
  const outcomes = sent.map((lead): RowOutcome => {
    const reason = refused.get(normalise(lead.email));
    if (reason === undefined) return { row: lead.row, status: 'accepted' };
    return INVALID_EMAIL.test(reason)
      ? { row: lead.row, status: 'rejected', field: EMAIL_FIELD, reason }
      : { row: lead.row, status: 'rejected', reason };
  });
  let unplaced = outcomes.filter((o) => o.status === 'accepted').length;
  const unattributed: UnattributedRefusal[] = [];
  for (const refusal of result.unnamedRefusals) {
    const count = Math.min(refusal.count, unplaced);
    if (count === 0) continue;
    unattributed.push({ count, reason: refusal.reason });
    unplaced -= count;
  }
  const unexplained = result.presentCount === undefined ? 0 : unplaced - result.presentCount;
  if (unexplained > 0) unattributed.push({ count: unexplained, reason: NOT_ADDED_WITHOUT_REASON });
  return { outcomes, unattributed };
}

function normalise(email: string): string {
  return email.trim().toLowerCase();
}
