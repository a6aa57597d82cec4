import { describe, expect, it } from 'vitest';
import { UnexpectedResponseError } from '../../src/vendors/errors.js';
import { addLeadsOutcomes } from '../../src/vendors/smartlead/outcomes.js';
import { AddLeadsAnswerSchema, CampaignLeadsPageSchema } from '../../src/vendors/smartlead/schemas.js';
import type { LeadRecord } from '../../src/vendors/types.js';

const CALL = "smartlead account 'a': POST /campaigns/42/leads";
const sent: LeadRecord[] = [
  { row: 1, email: 'ann@acme.com', fields: {} },
  { row: 2, email: 'not-an-email', fields: {} },
  { row: 3, email: 'Bob@Acme.com', fields: {} },
  { row: 4, email: 'cy@acme.com', fields: {} },
];

function outcomesOf(body: unknown) {
  return addLeadsOutcomes(CALL, AddLeadsAnswerSchema.parse(body), sent);
}

describe('SmartLead add-leads answers', () => {
  it('places every row of a classic answer: named invalid emails rejected, the rest (already added too) accepted', () => {
    const outcomes = outcomesOf({
      ok: true,
      upload_count: 2,
      total_leads: 4,
      already_added_to_campaign: 1,
      duplicate_count: 0,
      invalid_email_count: 1,
      invalid_emails: ['not-an-email'],
      block_count: 0,
    });

    expect(outcomes).toEqual([
      { row: 1, status: 'accepted' },
      { row: 2, status: 'rejected', field: 'email', reason: 'invalid email address' },
      { row: 3, status: 'accepted' },
      { row: 4, status: 'accepted' },
    ]);
  });

  it('rejects the unsubscribed leads a classic answer names, as SmartLead did not add them', () => {
    const outcomes = outcomesOf({
      ok: true,
      upload_count: 2,
      total_leads: 4,
      already_added_to_campaign: 1,
      invalid_email_count: 1,
      invalid_emails: ['not-an-email'],
      unsubscribed_leads: ['CY@acme.com'],
      block_count: 0,
      lead_import_stopped_count: 0,
    });

    expect(outcomes[0]).toEqual({ row: 1, status: 'accepted' });
    expect(outcomes[3]).toEqual({ row: 4, status: 'rejected', reason: expect.stringMatching(/^unsubscribed/) });
  });

  it('fails the call when leads were not imported because the lead limit ran out, naming the cause', () => {
    const answer = { ok: true, upload_count: 3, is_lead_limit_exhausted: true, lead_import_stopped_count: 1 };

    expect(() => outcomesOf(answer)).toThrow(/1 not imported: the SmartLead account's lead limit is exhausted/);
  });

  it('reads counts sent as strings', () => {
    const parsed = AddLeadsAnswerSchema.parse({ ok: true, upload_count: '4', total_leads: '4' });

    expect(parsed).toEqual({ addedCount: 4, refused: [], unnamedRefusals: [] });
  });

  it('places every row of a newer answer: skipped leads rejected with their reason, already-added ones accepted', () => {
    const outcomes = outcomesOf({
      success: true,
      added_count: 1,
      skipped_count: 3,
      skipped_leads: [
        { email: 'not-an-email', reason: 'Invalid email format' },
        { email: 'bob@acme.com', reason: 'Lead already added to campaign' },
        { email: 'cy@acme.com', reason: 'Unsubscribed lead' },
      ],
    });

    expect(outcomes).toEqual([
      { row: 1, status: 'accepted' },
      { row: 2, status: 'rejected', field: 'email', reason: 'Invalid email format' },
      { row: 3, status: 'accepted' },
      { row: 4, status: 'rejected', reason: 'Unsubscribed lead' },
    ]);
  });

  it('gives a skipped lead without a reason one that says so', () => {
    const outcomes = outcomesOf({ success: true, added_count: 3, skipped_count: 1, skipped_leads: ['cy@acme.com'] });

    expect(outcomes[3]).toEqual({ row: 4, status: 'rejected', reason: 'skipped by SmartLead (no reason given)' });
  });

  it('fails the call when refusals are counted but not named, rather than guess which rows they were', () => {
    const classic = { ok: true, upload_count: 3, block_count: 1 };
    const newer = { success: true, added_count: 3, skipped_count: 1, skipped_leads: [] };

    expect(() => outcomesOf(classic)).toThrow(UnexpectedResponseError);
    expect(() => outcomesOf(classic)).toThrow(/1 on the global block list.*ignore_global_block_list/);
    expect(() => outcomesOf(newer)).toThrow(UnexpectedResponseError);
  });

  it('refuses an answer of neither shape', () => {
    expect(AddLeadsAnswerSchema.safeParse({ message: 'done' }).success).toBe(false);
  });
});

describe('SmartLead campaign leads page', () => {
  it('reads total_leads as a number although SmartLead sends a string', () => {
    const page = CampaignLeadsPageSchema.parse({
      total_leads: '42',
      offset: 0,
      limit: 100,
      data: [
        {
          campaign_lead_map_id: 7,
          lead_category_id: null,
          status: 'STARTED',
          created_at: '2025-11-25T12:54:54.000Z',
          lead: { id: 9, email: 'ann@acme.com', first_name: 'Ann', custom_fields: { job_title: 'CEO' } },
        },
      ],
    });

    expect(page.total_leads).toBe(42);
    expect(page.data[0]?.lead.custom_fields).toEqual({ job_title: 'CEO' });
  });
});
