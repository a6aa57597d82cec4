import { describe, expect, it } from 'vitest';
import { addLeadsOutcomes } from '../../outcomes.js';
import { AddLeadsAnswerSchema, CampaignLeadsPageSchema } from '../../schemas.js';
import type { VendorRecord } from '../../../types.js';

const sent: VendorRecord[] = [
  { row: 1, email: 'ann@acme.com', fields: {} },
  { row: 2, email: 'not-an-email', fields: {} },
  { row: 3, email: 'Bob@Acme.com', fields: {} },
  { row: 4, email: 'cy@acme.com', fields: {} },
];

function readingOf(body: unknown) {
  return addLeadsOutcomes(AddLeadsAnswerSchema.parse(body), sent);
}

function outcomesOf(body: unknown) {
  return readingOf(body).outcomes;
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

  it('counts leads not imported because the lead limit ran out as refused but not named, with the cause', () => {
    const answer = { ok: true, upload_count: 3, is_lead_limit_exhausted: true, lead_import_stopped_count: 1 };

    expect(readingOf(answer).unattributed).toEqual([
      { count: 1, reason: "not imported: the SmartLead account's lead limit is exhausted" },
    ]);
  });

  it('reads unsubscribed leads as a count, and invalid ones counted without their list', () => {
    const reading = readingOf({
      ok: true,
      upload_count: 2,
      total_leads: 4,
      already_added_to_campaign: 0,
      duplicate_count: 0,
      invalid_email_count: 1,
      unsubscribed_leads: 1,
    });

    expect(reading.outcomes.every((o) => o.status === 'accepted')).toBe(true);
    expect(reading.unattributed).toEqual([
      { count: 1, reason: 'invalid email address' },
      { count: 1, reason: expect.stringMatching(/^unsubscribed/) },
    ]);
  });

  it('never counts more refused-but-unnamed leads than rows left accepted', () => {
    const reading = readingOf({ ok: true, upload_count: 0, invalid_emails: ['not-an-email'], block_count: 9 });

    expect(reading.unattributed).toEqual([{ count: 3, reason: 'on the global block list' }]);
  });

  it("finds leads the counts leave out from the vendor's fields: not added, not already there, no stated cause", () => {
    const reading = readingOf({
      ok: true,
      upload_count: 1,
      already_added_to_campaign: 1,
      duplicate_count: 0,
      invalid_email_count: 1,
      invalid_emails: ['not-an-email'],
    });

    expect(reading.outcomes.filter((o) => o.status === 'accepted')).toHaveLength(3);
    expect(reading.unattributed).toEqual([{ count: 1, reason: 'not added by SmartLead, and no count says why' }]);
  });

  it('reads the OpenAPI shape: inserted and blocked counts', () => {
    const reading = readingOf({ ok: true, inserted_count: 3, duplicate_count: 0, blocked_count: 1 });

    expect(reading.unattributed).toEqual([{ count: 1, reason: 'on the global block list' }]);
  });

  it('reads counts sent as strings', () => {
    const parsed = AddLeadsAnswerSchema.parse({ ok: true, upload_count: '4', total_leads: '4' });

    expect(parsed).toEqual({ addedCount: 4, refused: [], unnamedRefusals: [] });
    expect(AddLeadsAnswerSchema.parse({ ok: true, upload_count: 1, unsubscribed_leads: '2' }).unnamedRefusals).toEqual([
      { count: 2, reason: expect.stringMatching(/^unsubscribed/) },
    ]);
  });

  it('places every row of a newer answer: skipped leads rejected with their reason, already-added ones accepted', () => {
    const outcomes = outcomesOf({
      success: true,
      added_count: 1,
      skipped_count: 3,
      skipped_leads: [
        { email: 'not-an-email', reason: 'Invalid email format' },
        { email: 'bob@acme.com', reason: 'Duplicate lead' },
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

  it('reports refusals counted but not named as such, rather than guess which rows they were', () => {
    const classic = readingOf({ ok: true, upload_count: 3, block_count: 1, bounce_count: 0 });
    const newer = readingOf({ success: true, added_count: 3, skipped_count: 1, skipped_leads: [] });

    expect(classic.outcomes.every((o) => o.status === 'accepted')).toBe(true);
    expect(classic.unattributed).toEqual([{ count: 1, reason: 'on the global block list' }]);
    expect(newer.unattributed).toEqual([{ count: 1, reason: 'skipped by SmartLead (no reason given)' }]);
  });

  it('takes a skipped lead whose code says it is already there as present', () => {
    const outcomes = outcomesOf({
      success: true,
      added_count: 3,
      skipped_count: 1,
      skipped_leads: [{ email: 'cy@acme.com', code: 'ALREADY_EXISTS' }],
    });

    expect(outcomes[3]).toEqual({ row: 4, status: 'accepted' });
  });

  it('refuses an answer with no count of added leads', () => {
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
