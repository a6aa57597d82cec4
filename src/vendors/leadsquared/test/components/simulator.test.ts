import { setTimeout } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { SENDER_HEADER } from '../../../../simulation/request-log.js';
import {
  startLeadSquaredSimulator,
  type LeadSquaredSimulatorOptions,
  type RunningLeadSquaredSimulator,
} from '../../simulator/server.js';
import { AuthError, BatchTooLargeError, NotFoundError, RateLimitedError, TransientError } from '../../../errors.js';
import { LeadSquaredClient } from '../../api.js';
import type { VendorRecord } from '../../../types.js';
import { failure } from '../../../../../test/helpers/failure.js';

const KEYS = { accessKey: 'sim-access-key-1', secretKey: 'sim-secret-key-1' };
/** Room enough that only the tests about rate limits meet one. */
const ROOMY = { general: [{ limit: 10_000, seconds: 5 }], bulk: [{ limit: 10_000, seconds: 5 }] };

let simulator: RunningLeadSquaredSimulator | undefined;

afterEach(async () => {
  await simulator?.stop();
  simulator = undefined;
});

async function start(options: Partial<LeadSquaredSimulatorOptions> = {}) {
  simulator = await startLeadSquaredSimulator({ plan: ROOMY, ...KEYS, ...options });
  return simulator;
}

function clientOf(sim: RunningLeadSquaredSimulator, keys = KEYS): LeadSquaredClient {
  return new LeadSquaredClient({ accountName: 'sim', baseUrl: sim.baseUrl, ...keys, timeoutMs: 5_000 });
}

function lead(row: number, email = `lead${row}@example.com`, fields: Record<string, string> = {}): VendorRecord {
  return { row, email, fields: { FirstName: `First${row}`, ...fields } };
}

describe('LeadSquared simulator, driven by the real client', () => {
  it('refuses wrong or missing keys with a 401 the client reads as an auth error', async () => {
    const sim = await start();

    const err = await failure(clientOf(sim, { ...KEYS, secretKey: 'wrong-secret' }).createOrUpdateLead(lead(1)));

    expect(err).toBeInstanceOf(AuthError);
    const missing = await fetch(new URL('LeadManagement.svc/Leads.GetByEmailaddress?emailaddress=a@b.co', sim.baseUrl));
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ Status: 'Error', ExceptionType: 'MXUnAuthorizedAccessException' });
    expect(sim.report().requests.map((r) => r.outcome)).toEqual(['auth', 'auth']);
    expect(sim.report().leads.count).toBe(0);
  });

  it('also takes the keys as query parameters', async () => {
    const sim = await start();
    const url = new URL('LeadManagement.svc/Leads.GetByEmailaddress', sim.baseUrl);
    url.search = new URLSearchParams({ emailaddress: 'nobody@example.com', ...KEYS }).toString();

    const response = await fetch(url);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual([]);
  });

  it('upserts by email: a second write updates the same lead, whatever the case of the address', async () => {
    const sim = await start();
    const client = clientOf(sim);

    const created = await client.createOrUpdateLead(lead(1, 'ada@example.com'));
    const updated = await client.createOrUpdateLead(lead(2, 'ADA@example.com', { LastName: 'Lovelace' }));
    const fresh = clientOf(sim);

    const prospectId = await fresh.getLeadByEmail('ada@example.com');
    expect(prospectId).toBe(sim.leads()[0]!.prospectId);
    // Each write's outcome carries the lead's ProspectID, as the vendor's answer gives it.
    expect([created, updated]).toEqual([
      { row: 1, status: 'accepted', vendorId: prospectId },
      { row: 2, status: 'accepted', vendorId: prospectId },
    ]);
    expect(await fresh.getLeadByEmail('nobody@example.com')).toBeUndefined();
    expect(sim.leads()).toHaveLength(1);
    expect(sim.leads()[0]).toMatchObject({ writes: 2, fields: { FirstName: 'First2', LastName: 'Lovelace' } });
    expect(sim.report()).toMatchObject({ leads: { count: 1, created: 1, updated: 1 }, duplicates: 0 });
  });

  it('rejects a single lead with an invalid email as that row, naming the field', async () => {
    const sim = await start();

    const outcome = await clientOf(sim).createOrUpdateLead(lead(7, 'not-an-email'));

    expect(outcome).toMatchObject({ row: 7, status: 'rejected', field: 'EmailAddress' });
    expect(sim.report().requests[0]).toMatchObject({ status: 400, outcome: 'rejected', rows: 0 });
    expect(sim.report().totals).toMatchObject({ rowsAccepted: 0, rowsRejected: 1 });
  });

  it('reports per-row failures of a bulk upsert and stores the other rows', async () => {
    const sim = await start();
    const leads = [lead(1), lead(2, 'broken@'), lead(3), lead(4, 'lead1@example.com')];

    const outcomes = await clientOf(sim).bulkCreateOrUpdateLeads(leads);

    expect(outcomes.map((o) => o.status)).toEqual(['accepted', 'rejected', 'accepted', 'accepted']);
    expect(outcomes[1]).toMatchObject({ row: 2, field: 'EmailAddress' });
    // A row landed carries its lead's ProspectID from the bulk answer (row 4 is row 1's lead again).
    const prospectIds = new Map(sim.leads().map((l) => [l.email, l.prospectId]));
    expect([0, 2, 3].map((i) => outcomes[i])).toEqual([
      { row: 1, status: 'accepted', vendorId: prospectIds.get('lead1@example.com') },
      { row: 3, status: 'accepted', vendorId: prospectIds.get('lead3@example.com') },
      { row: 4, status: 'accepted', vendorId: prospectIds.get('lead1@example.com') },
    ]);
    expect(
      sim
        .leads()
        .map((l) => l.email)
        .sort(),
    ).toEqual(['lead1@example.com', 'lead3@example.com']);
    expect(sim.report().totals).toMatchObject({ requests: 1, rowsAccepted: 3, rowsRejected: 1 });
    expect(sim.report().requests[0]).toMatchObject({ lane: 'bulk', outcome: 'ok', rows: 3 });
  });

  it('logs every lead a request handled, single or bulk, stored or refused, and none of a call refused whole', async () => {
    const sim = await start({ plan: { general: ROOMY.general, bulk: [{ limit: 2, seconds: 60 }] } });
    const client = clientOf(sim);
    await client.createOrUpdateLead(lead(1, 'Ada@example.com', { Phone: '555' }));
    await client.createOrUpdateLead(lead(2, 'grace@example.com', { Phone: '555' }));
    await client.bulkCreateOrUpdateLeads([lead(3, 'ada@example.com'), lead(4, 'broken@'), lead(5)]);
    await failure(client.bulkCreateOrUpdateLeads(Array.from({ length: 51 }, (_, i) => lead(i + 10))));
    await failure(client.bulkCreateOrUpdateLeads([lead(6)]));

    const requests = sim.report().requests;
    const writes = sim.rowWrites('lead');

    expect(requests.map((r) => r.outcome)).toEqual(['ok', 'rejected', 'ok', 'invalid', 'rate-limited']);
    expect(writes).toEqual(
      new Map([
        ['ada@example.com', [0, 2]],
        ['grace@example.com', [1]],
        ['broken@', [2]],
        ['lead5@example.com', [2]],
      ]),
    );
    expect(sim.rowWrites('activity').size).toBe(0);
  });

  it('logs who sent a request as it names itself, and an answer its client did not wait for', async () => {
    const sim = await start({ faults: { slowMs: 400 } });
    const post = (timeoutMs: number) =>
      fetch(new URL('LeadManagement.svc/Lead.CreateOrUpdate', sim.baseUrl), {
        method: 'POST',
        headers: {
          'x-LSQ-AccessKey': KEYS.accessKey,
          'x-LSQ-SecretKey': KEYS.secretKey,
          'content-type': 'application/json',
          [SENDER_HEADER]: `waited ${timeoutMs}`,
        },
        body: JSON.stringify([{ Attribute: 'EmailAddress', Value: 'ada@example.com' }]),
        signal: AbortSignal.timeout(timeoutMs),
      });

    await failure(post(100));
    await setTimeout(500);
    expect((await post(5_000)).status).toBe(200);

    expect(sim.report().requests).toEqual([
      expect.objectContaining({ outcome: 'ok', sender: 'waited 100', undelivered: true }),
      expect.not.objectContaining({ undelivered: true }),
    ]);
    expect(sim.report().requests[1]!.sender).toBe('waited 5000');
    expect(sim.rowWrites('lead').get('ada@example.com')).toEqual([0, 1]);
  });

  it('refuses a batch over the maximum in the vendor envelope, which the client reads as batch too large', async () => {
    const sim = await start();
    const leads = Array.from({ length: 51 }, (_, i) => lead(i + 1));

    const err = await failure(clientOf(sim).bulkCreateOrUpdateLeads(leads));

    expect(err).toBeInstanceOf(BatchTooLargeError);
    expect((err as BatchTooLargeError).maxRows).toBe(50);
    expect(sim.report()).toMatchObject({ leads: { count: 0 }, totals: { requests: 1 } });
    expect(sim.report().requests[0]).toMatchObject({ status: 400, outcome: 'invalid' });
    expect(await clientOf(sim).bulkCreateOrUpdateLeads(leads.slice(0, 50))).toHaveLength(50);
  });

  it('answers over-limit calls with the rate-limit envelope and HTTP 429, window included', async () => {
    const sim = await start({ plan: 'pro' });
    const client = clientOf(sim);
    for (let row = 1; row <= 5; row += 1) await client.createOrUpdateLead(lead(row));

    const err = await failure(client.createOrUpdateLead(lead(6)));

    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).window).toEqual({ limit: 5, seconds: 5 });
    expect((err as RateLimitedError).retryAfterMs).toBe(5_000);
    expect(sim.report().totals).toMatchObject({ requests: 6, rateLimited: 1, rowsAccepted: 5 });
    expect(sim.report().requests[5]).toMatchObject({ status: 429, outcome: 'rate-limited', rows: 0 });
    expect(sim.leads()).toHaveLength(5);
  });

  it('answers a rate limit with HTTP 200 when asked to, as seen in the wild, and the client still sees it', async () => {
    const sim = await start({ plan: 'lite', rateLimitStatus: 200 });
    const client = clientOf(sim);
    await client.createOrUpdateLead(lead(1));
    await client.createOrUpdateLead(lead(2));

    const err = await failure(client.createOrUpdateLead(lead(3)));

    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).window).toEqual({ limit: 2, seconds: 5 });
    expect(sim.report().requests[2]).toMatchObject({ status: 200, outcome: 'rate-limited' });
  });

  it('spends a bulk call from the bulk lane and from the general lane by default', async () => {
    const sim = await start({ plan: 'pro' });
    const client = clientOf(sim);
    await client.bulkCreateOrUpdateLeads([lead(1)]);

    const secondBulk = await failure(client.bulkCreateOrUpdateLeads([lead(2)]));
    for (let row = 3; row <= 6; row += 1) await client.createOrUpdateLead(lead(row));
    const fifthGeneral = await failure(client.createOrUpdateLead(lead(7)));

    expect((secondBulk as RateLimitedError).window).toEqual({ limit: 1, seconds: 5 });
    expect((fifthGeneral as RateLimitedError).window).toEqual({ limit: 5, seconds: 5 });
    expect(sim.report().totals).toMatchObject({ rateLimited: 2, rowsAccepted: 5 });
  });

  it('leaves the general lane alone when bulk calls do not spend from it', async () => {
    const sim = await start({ plan: 'pro', bulkSpendsGeneral: false });
    const client = clientOf(sim);
    await client.bulkCreateOrUpdateLeads([lead(1)]);

    for (let row = 2; row <= 6; row += 1) await client.createOrUpdateLead(lead(row));

    expect(sim.report().totals).toMatchObject({ rateLimited: 0, rowsAccepted: 6 });
  });

  it('stores activities posted by ProspectID and in bulk by email, rejecting unknown leads per row', async () => {
    const sim = await start();
    const client = clientOf(sim);
    await client.bulkCreateOrUpdateLeads([lead(1), lead(2)]);
    const prospectId = await client.getLeadByEmail('lead1@example.com');
    const at = new Date('2024-05-01T10:00:00Z');

    expect(await client.postActivity(prospectId!, { row: 1, event: 201, note: 'called', at })).toEqual({
      row: 1,
      status: 'accepted',
    });
    expect(await client.postActivity('00000000-0000-0000-0000-000000000000', { row: 2, event: 201 })).toMatchObject({
      row: 2,
      status: 'rejected',
    });
    const bulk = await client.postActivitiesByLeadField([
      { row: 3, event: 202, email: 'lead2@example.com', fields: { mx_Custom_1: 'x' } },
      { row: 4, event: 202, email: 'nobody@example.com' },
      { row: 5, event: 202, email: 'LEAD1@example.com' },
    ]);

    expect(bulk.map((o) => o.status)).toEqual(['accepted', 'rejected', 'accepted']);
    expect(sim.activities()).toHaveLength(3);
    expect(sim.activities()[0]).toMatchObject({
      prospectId,
      event: 201,
      note: 'called',
      dateTime: '2024-05-01 10:00:00',
    });
    expect(sim.activities()[1]).toMatchObject({ email: 'lead2@example.com', fields: { mx_Custom_1: 'x' } });
    expect(sim.report()).toMatchObject({ activities: 3, duplicates: 0 });
    // Refused rows are written rows too, each once: three posts landed, two refused for the lead they name.
    const activityWrites = sim.rowWrites('activity');
    expect(activityWrites.size).toBe(5);
    expect([...activityWrites.values()].every((requests) => requests.length === 1)).toBe(true);
  });

  it('counts an activity posted twice as a duplicate', async () => {
    const sim = await start();
    const client = clientOf(sim);
    await client.createOrUpdateLead(lead(1));
    const activity = { row: 1, event: 201, email: 'lead1@example.com', at: new Date('2024-05-01T10:00:00Z') };

    await client.postActivitiesByLeadField([activity]);
    await client.postActivitiesByLeadField([activity]);

    expect(sim.report()).toMatchObject({ activities: 2, duplicates: 1 });
    expect([...sim.rowWrites('activity').values()]).toEqual([[1, 2]]);
  });

  it('refuses more than 25 activities in one bulk call', async () => {
    const sim = await start();
    const activities = Array.from({ length: 26 }, (_, i) => ({ row: i + 1, event: 201, email: 'a@example.com' }));

    const err = await failure(clientOf(sim).postActivitiesByLeadField(activities));

    expect(err).toBeInstanceOf(BatchTooLargeError);
    expect((err as BatchTooLargeError).maxRows).toBe(25);
  });

  it('answers a path it does not serve with 404', async () => {
    const sim = await start();
    const client = new LeadSquaredClient({
      accountName: 'sim',
      baseUrl: sim.baseUrl.replace('/v2/', '/v1/'),
      ...KEYS,
      timeoutMs: 5_000,
    });

    expect(await failure(client.createOrUpdateLead(lead(1)))).toBeInstanceOf(NotFoundError);
    expect(sim.report().requests[0]).toMatchObject({ status: 404, outcome: 'not-found' });
  });
});

describe('LeadSquared simulator faults', () => {
  it('fails the injected share of calls with 500s that write nothing, as the client sees them', async () => {
    const sim = await start({ faults: { errorRate: 0.5, seed: 42 } });
    const client = clientOf(sim);
    let transient = 0;
    for (let row = 1; row <= 40; row += 1) {
      await client.createOrUpdateLead(lead(row)).catch((err: unknown) => {
        if (!(err instanceof TransientError)) throw err;
        transient += 1;
      });
    }

    const report = sim.report();
    expect(transient).toBeGreaterThan(5);
    expect(transient).toBeLessThan(35);
    expect(report.totals.faults).toBe(transient);
    expect(report.requests.filter((r) => r.outcome === 'fault-500' && r.status === 500)).toHaveLength(transient);
    expect(report.leads.count).toBe(40 - transient);
  });

  it('answers an injected 500 as LeadSquared wraps its own failures, in the MX envelope, and a bare one on request', async () => {
    const sim = await start({ faults: { errorRate: 1 } });
    const send = () =>
      fetch(new URL('LeadManagement.svc/Lead.CreateOrUpdate', sim.baseUrl), {
        method: 'POST',
        headers: { 'x-LSQ-AccessKey': KEYS.accessKey, 'x-LSQ-SecretKey': KEYS.secretKey },
        body: JSON.stringify([{ Attribute: 'EmailAddress', Value: 'a@example.com' }]),
      });

    const enveloped = await send();
    const envelopedBody = (await enveloped.json()) as Record<string, unknown>;
    sim.setFaults({ bareErrorRate: 1 });
    const bare = await send();

    expect(enveloped.status).toBe(500);
    expect(envelopedBody).toEqual({
      Status: 'Error',
      ExceptionType: 'NullReferenceException',
      ExceptionMessage: 'There was an error processing the request.',
    });
    expect(bare.status).toBe(500);
    expect(await bare.text()).toBe('Internal Server Error');
    expect(sim.report().requests.map((r) => r.outcome)).toEqual(['fault-500', 'fault-500']);
    expect(sim.leads()).toHaveLength(0);
  });

  it('has the client retry an injected enveloped 500 on one lead and in bulk, never reject the rows', async () => {
    const sim = await start({ faults: { errorRate: 1 } });
    const client = clientOf(sim);

    const single = await failure(client.createOrUpdateLead(lead(1)));
    const bulk = await failure(client.bulkCreateOrUpdateLeads([lead(2), lead(3)]));

    expect(single).toBeInstanceOf(TransientError);
    expect(single.message).toContain('HTTP 500: NullReferenceException: There was an error processing the request.');
    expect(bulk).toBeInstanceOf(TransientError);
  });

  it('drops the connection before handling, writing nothing', async () => {
    const sim = await start({ faults: { dropRate: 1 } });

    expect(await failure(clientOf(sim).createOrUpdateLead(lead(1)))).toBeInstanceOf(TransientError);
    expect(sim.report()).toMatchObject({ leads: { count: 0 }, totals: { faults: 1 } });
    expect(sim.report().requests[0]).toMatchObject({ status: 0, outcome: 'fault-drop' });
  });

  it('performs the write and then loses the answer, so a retry must be an upsert', async () => {
    const sim = await start({ faults: { lostResponseRate: 1 } });
    const client = clientOf(sim);

    expect(await failure(client.bulkCreateOrUpdateLeads([lead(1), lead(2)]))).toBeInstanceOf(TransientError);
    expect(sim.leads()).toHaveLength(2);
    expect(sim.report().requests[0]).toMatchObject({ status: 0, outcome: 'fault-lost-response', rows: 2 });

    sim.setFaults({});
    await client.bulkCreateOrUpdateLeads([lead(1), lead(2)]);
    expect(sim.report()).toMatchObject({ leads: { count: 2, created: 2, updated: 2 }, duplicates: 0 });
  });
});

describe('LeadSquared simulator admin endpoints', () => {
  it('serves the report, the leads and activities, takes faults and resets', async () => {
    const sim = await start();
    const client = clientOf(sim);
    await client.bulkCreateOrUpdateLeads([lead(1), lead(2), lead(3)]);

    const report = (await (await fetch(`${sim.adminUrl}/report`)).json()) as { totals: { rowsAccepted: number } };
    const page = (await (await fetch(`${sim.adminUrl}/leads?offset=1&limit=1`)).json()) as {
      total: number;
      items: { email: string }[];
    };
    const faults = await fetch(`${sim.adminUrl}/faults`, { method: 'POST', body: JSON.stringify({ errorRate: 1 }) });
    const failed = await failure(client.createOrUpdateLead(lead(4)));
    const badFaults = await fetch(`${sim.adminUrl}/faults`, { method: 'POST', body: JSON.stringify({ errorRate: 2 }) });
    const reset = await fetch(`${sim.adminUrl}/reset`, { method: 'POST' });
    const activities = (await (await fetch(`${sim.adminUrl}/activities`)).json()) as { total: number };

    expect(report.totals.rowsAccepted).toBe(3);
    expect(page).toMatchObject({ total: 3, items: [{ email: 'lead2@example.com' }] });
    expect(faults.status).toBe(200);
    expect(failed).toBeInstanceOf(TransientError);
    expect(badFaults.status).toBe(400);
    expect(reset.status).toBe(200);
    expect(activities.total).toBe(0);
    expect(sim.report()).toMatchObject({ requests: [], leads: { count: 0 }, totals: { requests: 0 } });
    expect(await client.createOrUpdateLead(lead(5))).toMatchObject({ status: 'accepted' });
  });
  it('deletes leads by email, which frees the phone they held for another lead', async () => {
    const sim = await start();
    const client = clientOf(sim);
    await client.createOrUpdateLead(lead(1, 'holder@example.com', { Phone: '555' }));
    const refused = await client.createOrUpdateLead(lead(2, 'grace@example.com', { Phone: '555' }));

    const deleted = await fetch(`${sim.adminUrl}/leads/delete`, {
      method: 'POST',
      body: JSON.stringify({ email: 'Holder@example.com' }),
    });
    const unknown = await fetch(`${sim.adminUrl}/leads/delete`, {
      method: 'POST',
      body: JSON.stringify({ email: 'nobody@example.com' }),
    });
    const malformed = await fetch(`${sim.adminUrl}/leads/delete`, { method: 'POST', body: JSON.stringify({}) });
    const landed = await client.createOrUpdateLead(lead(2, 'grace@example.com', { Phone: '555' }));

    expect(refused).toMatchObject({ status: 'rejected' });
    expect(await deleted.json()).toEqual({ ok: true });
    expect(unknown.status).toBe(404);
    expect(malformed.status).toBe(400);
    expect(landed).toMatchObject({ status: 'accepted' });
    expect(sim.leads().map((l) => l.email)).toEqual(['grace@example.com']);
  });
});
