import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { AuthError, NotFoundError } from '../../../errors.js';
import type { Transport, TransportRequest } from '../../../transport.js';
import { VENDORS } from '../../../registry.js';
import { smartLead } from '../../index.js';
import { SMARTLEAD_ACCOUNT, parsedAccount } from '../../../../../test/helpers/accounts.js';
import { failure } from '../../../../../test/helpers/failure.js';

const account = parsedAccount('outbound', SMARTLEAD_ACCOUNT);
const API_KEY = 'sl_key/with+chars-123456';
const credentials = { apiKey: API_KEY };

function fakeTransport(status: number, body: unknown, headers: Record<string, string> = {}) {
  const calls: TransportRequest[] = [];
  const transport: Transport = async (request) => {
    calls.push(request);
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers });
  };
  return { calls, transport };
}

describe('smartLead vendor', () => {
  it('is registered under its name', () => {
    expect(VENDORS.named('smartlead')).toBe(smartLead);
  });

  it('takes a campaign id as a number or as digits, with optional settings', () => {
    expect(smartLead.targetSchema.parse({ campaignId: '42' })).toEqual({ campaignId: 42 });
    expect(
      smartLead.targetSchema.safeParse({ campaignId: 42, settings: { ignore_global_block_list: true } }).success,
    ).toBe(true);
    expect(smartLead.targetSchema.safeParse({ campaignId: 'abc' }).success).toBe(false);
    expect(smartLead.targetSchema.safeParse({ campaignId: 42, settings: { ignore_everything: true } }).success).toBe(
      false,
    );
  });

  it('adds leads in one call with api_key in the query, and returns outcomes and the quota', async () => {
    const { calls, transport } = fakeTransport(
      200,
      { ok: true, upload_count: 2, total_leads: 2, invalid_emails: [] },
      { 'x-ratelimit-limit': '60', 'x-ratelimit-remaining': '59', 'x-ratelimit-reset': '1735732800' },
    );
    const client = smartLead.connect(account, credentials, { timeoutMs: 1000, transport });

    const result = await client.upsertLeads(
      'general',
      [
        { row: 1, email: 'ann@acme.com', fields: { email: 'ann@acme.com', 'custom_fields.job_title': 'CEO' } },
        { row: 2, email: 'bob@acme.com', fields: { email: 'bob@acme.com' } },
      ],
      { campaignId: '42', settings: { ignore_duplicate_leads_in_other_campaign: true } },
    );

    expect(result).toEqual({
      outcomes: [
        { row: 1, status: 'accepted' },
        { row: 2, status: 'accepted' },
      ],
      quota: { limit: 60, remaining: 59, resetAtMs: 1_735_732_800_000 },
    });
    expect(calls[0]?.url.pathname).toBe('/api/v1/campaigns/42/leads');
    expect(calls[0]?.url.searchParams.get('api_key')).toBe(API_KEY);
    expect(JSON.parse(String(calls[0]?.body))).toEqual({
      lead_list: [{ email: 'ann@acme.com', custom_fields: { job_title: 'CEO' } }, { email: 'bob@acme.com' }],
      settings: { ignore_duplicate_leads_in_other_campaign: true },
    });
  });

  it('raises an AuthError without the key, even when SmartLead echoes it', async () => {
    const { transport } = fakeTransport(401, { message: `Invalid API Key ${API_KEY}` });
    const client = smartLead.connect(account, credentials, { timeoutMs: 1000, transport });

    const err = await failure(client.verify({ campaignId: 42 }));

    expect(err).toBeInstanceOf(AuthError);
    expect(err.message).not.toContain(API_KEY);
    expect(err.message).not.toContain(encodeURIComponent(API_KEY));
  });

  it('verifies by reading the campaign, and names a missing one', async () => {
    const { calls, transport } = fakeTransport(404, { error: 'Campaign not found' });
    const client = smartLead.connect(account, credentials, { timeoutMs: 1000, transport });

    const err = await failure(client.verify({ campaignId: 77 }));

    expect(calls[0]?.method).toBe('GET');
    expect(calls[0]?.url.pathname).toBe('/api/v1/campaigns/77');
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.message).toContain('campaign 77');
  });

  it("sends its own User-Agent, never an HTTP library's default", async () => {
    const { calls, transport } = fakeTransport(200, { id: 42, name: 'c', status: 'ACTIVE' });
    const client = smartLead.connect(account, credentials, { timeoutMs: 1000, transport });

    await client.verify({ campaignId: 42 });

    const headers = new Headers(calls[0]?.headers);
    expect(headers.get('user-agent')).toMatch(/^leadsync\/\d+\.\d+\.\d+ /);
  });

  it("makes a lone lead SmartLead refuses that lead's reject, in SmartLead's words", async () => {
    const { transport } = fakeTransport(422, {
      error: { code: 'VALIDATION_ERROR', message: 'lead validation failed' },
    });
    const client = smartLead.connect(account, credentials, { timeoutMs: 1000, transport });

    const result = await client.upsertLeads('general', [{ row: 7, email: 'x@acme.com', fields: {} }], {
      campaignId: 42,
    });

    expect(result.outcomes).toEqual([
      {
        row: 7,
        status: 'rejected',
        reason: 'SmartLead refused the lead (HTTP 422): VALIDATION_ERROR: lead validation failed',
      },
    ]);
  });

  it('rejects every row of an upload answered in a shape it cannot read, with the answer as the reason', async () => {
    const { transport } = fakeTransport(200, { status: 'queued' });
    const client = smartLead.connect(account, credentials, { timeoutMs: 1000, transport });
    const leads = [1, 2].map((row) => ({ row, email: `l${row}@acme.com`, fields: {} }));

    const result = await client.upsertLeads('general', leads, { campaignId: 42 });

    expect(result.outcomes).toEqual(
      leads.map((lead) => ({
        row: lead.row,
        status: 'rejected',
        reason: 'SmartLead answered the upload in a shape leadsync cannot read: {"status":"queued"}',
      })),
    );
  });

  it('has only the general lane', async () => {
    const client = smartLead.connect(account, credentials, {
      timeoutMs: 1000,
      transport: fakeTransport(200, {}).transport,
    });

    await expect(client.upsertLeads('bulk', [], { campaignId: 1 })).rejects.toThrow(/only the general lane/);
  });

  it("reads a campaign's leads back a page at a time, custom fields by the names a source maps to", async () => {
    const page = JSON.parse(
      await readFile(new URL('../../corpus/campaign-leads-page.json', import.meta.url), 'utf8'),
    ) as { response: { body: unknown } };
    const { calls, transport } = fakeTransport(200, page.response.body);
    const reader = smartLead.connect(account, credentials, { timeoutMs: 1000, transport }).readLeads;

    const read = reader?.by === 'list' ? await reader.read({ campaignId: 42 }, 0, (call) => call()) : undefined;

    expect(calls[0]?.url.pathname).toMatch(/\/campaigns\/42\/leads$/);
    expect(calls[0]?.url.searchParams.get('limit')).toBe('100');
    // One lead in all: the last page, so no next offset.
    expect(read).toEqual({
      leads: [
        {
          email: 'john@example.com',
          fields: expect.objectContaining({
            email: 'john@example.com',
            first_name: 'John',
            'custom_fields.job_title': 'CEO',
          }),
        },
      ],
    });
  });
});
