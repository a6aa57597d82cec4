import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../core/errors.js';
import { BatchTooLargeError } from '../../../errors.js';
import type { Transport, TransportRequest } from '../../../transport.js';
import { leadSquared } from '../../index.js';
import { VENDORS } from '../../../registry.js';
import { LEADSQUARED_ACCOUNT, parsedAccount } from '../../../../../test/helpers/accounts.js';

const account = parsedAccount('acme', LEADSQUARED_ACCOUNT);
const credentials = { accessKey: 'u$AccessKey-1234', secretKey: 'SecretKey-5678' };

function recordingTransport(body: unknown) {
  const calls: TransportRequest[] = [];
  const transport: Transport = async (request) => {
    calls.push(request);
    return new Response(JSON.stringify(body), { status: 200 });
  };
  return { calls, transport };
}

describe('leadSquared vendor', () => {
  it('is registered under its name', () => {
    expect(VENDORS.named('leadsquared')).toBe(leadSquared);
  });

  it('upserts one lead per call on the general lane, keys in headers and not in the URL', async () => {
    const { calls, transport } = recordingTransport({ Status: 'Success', Message: { Id: 'p-1', AffectedRows: 1 } });
    const client = leadSquared.connect(account, credentials, { timeoutMs: 1000, transport });

    const result = await client.upsertLeads('general', [{ row: 3, email: 'a@x.co', fields: {} }], {});

    expect(result.outcomes).toEqual([{ row: 3, status: 'accepted', vendorId: 'p-1' }]);
    expect(calls[0]?.url.href).toBe(
      'https://api-us11.leadsquared.com/v2/LeadManagement.svc/Lead.CreateOrUpdate?postUpdatedLead=false',
    );
    expect(calls[0]?.headers).toMatchObject({
      'x-LSQ-AccessKey': credentials.accessKey,
      'x-LSQ-SecretKey': credentials.secretKey,
    });
  });

  it('refuses more than one lead on the general lane as a batch to split, before any call', async () => {
    const { calls, transport } = recordingTransport({});
    const client = leadSquared.connect(account, credentials, { timeoutMs: 1000, transport });
    const leads = [1, 2].map((row) => ({ row, email: `${row}@x.co`, fields: {} }));

    await expect(client.upsertLeads('general', leads, {})).rejects.toBeInstanceOf(BatchTooLargeError);
    expect(calls).toHaveLength(0);
  });

  it('names the missing credential of the account', () => {
    const withoutSecret = { accessKey: 'k' } as Parameters<typeof leadSquared.connect>[1];
    expect(() => leadSquared.connect(account, withoutSecret, { timeoutMs: 1000 })).toThrow(ConfigError);
    expect(() => leadSquared.connect(account, withoutSecret, { timeoutMs: 1000 })).toThrow(/'acme'.*secretKey/);
  });

  it('takes no sync target beyond the account', () => {
    expect(leadSquared.targetSchema.safeParse({}).success).toBe(true);
    expect(leadSquared.targetSchema.safeParse({ campaignId: 1 }).success).toBe(false);
  });

  it('reads a lead back whole by email on the general lane, as the documented lookup answers', async () => {
    const hit = JSON.parse(await readFile(new URL('../../corpus/lookup-hit.json', import.meta.url), 'utf8')) as {
      response: { body: unknown };
    };
    const { calls, transport } = recordingTransport(hit.response.body);
    const reader = leadSquared.connect(account, credentials, { timeoutMs: 1000, transport }).readLeads;
    const lanes: (string | undefined)[] = [];

    const leads =
      reader?.by === 'email'
        ? await reader.read(['rizwan@example.com'], (call, lane) => (lanes.push(lane), call()))
        : undefined;

    expect(lanes).toEqual(['general']);
    expect(calls[0]?.url.pathname).toBe('/v2/LeadManagement.svc/Leads.GetByEmailaddress');
    expect(leads).toEqual([
      {
        email: 'rizwan@example.com',
        fields: expect.objectContaining({ FirstName: 'Syed', LastName: 'Rizwan Ali', SourceReferrer: '' }),
      },
    ]);
  });

  it('reads no lead back for an address LeadSquared does not know', async () => {
    const { transport } = recordingTransport([]);
    const reader = leadSquared.connect(account, credentials, { timeoutMs: 1000, transport }).readLeads;

    const leads = reader?.by === 'email' ? await reader.read(['nobody@example.com'], (call) => call()) : undefined;

    expect(leads).toEqual([]);
  });
});
