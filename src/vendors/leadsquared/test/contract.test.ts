import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  startLeadSquaredSimulator,
  type LeadSquaredSimulatorOptions,
  type RunningLeadSquaredSimulator,
} from '../simulator/server.js';
import { loadCorpus, type CorpusExchange } from '../../corpus.js';
import { type BatchTooLargeError, type RateLimitedError, VendorError } from '../../errors.js';
import { NOTE_DATA_KEY, type ActivityByEmail } from '../sales-activities.js';
import { LeadSquaredClient } from '../api.js';
import type { VendorRecord, RowOutcome } from '../../types.js';

const CORPUS = loadCorpus(join(import.meta.dirname, '../corpus'));
const KEYS = { accessKey: 'contract-access-key', secretKey: 'contract-secret-key' };
const BASE_URL = 'https://api-in21.leadsquared.com/v2/';

describe('the LeadSquared contract corpus', () => {
  it('has an exchange for every case the client relies on, each saying what the record shows of it', () => {
    const standings = [...CORPUS.values()].map((exchange) => exchange.standing);

    expect(CORPUS.size).toBeGreaterThanOrEqual(20);
    expect(new Set(standings)).toEqual(new Set(['documented', 'independent-client', 'inferred', 'assumed']));
    for (const [name, exchange] of CORPUS) {
      if (exchange.standing === 'inferred' || exchange.standing === 'assumed') {
        expect(exchange.note, `${name} says what it rests on`).toBeTruthy();
      }
    }
  });
});

describe('the LeadSquared client reads every exchange of the corpus as it expects', () => {
  it.each([...CORPUS.entries()])('%s', async (_name, exchange) => {
    const sent: { method: string; url: URL; body: unknown }[] = [];
    const fetchAnswer: typeof fetch = (input, init) => {
      const url = new URL(input instanceof Request ? input.url : input.toString());
      const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined;
      sent.push({ method: init?.method ?? 'GET', url, body });
      const { status, body: answer } = exchange.response;
      const text = typeof answer === 'string' ? answer : JSON.stringify(answer);
      return Promise.resolve(new Response(text, { status }));
    };
    const client = new LeadSquaredClient({
      accountName: 'acme',
      baseUrl: BASE_URL,
      ...KEYS,
      timeoutMs: 5_000,
      fetch: fetchAnswer,
    });

    const read = await callFor(client, exchange).then(
      (value) => ({ value }),
      (err: unknown) => ({ err }),
    );

    // The client sends the request the exchange shows: method, path and query, body.
    const expected = new URL(exchange.request.path, BASE_URL);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.method).toBe(exchange.request.method);
    expect(sent[0]!.url.pathname.toLowerCase()).toBe(expected.pathname.toLowerCase());
    for (const [name, value] of expected.searchParams) expect(sent[0]!.url.searchParams.get(name)).toBe(value);
    expect(sent[0]!.body).toEqual(exchange.request.body);
    expect(sent[0]!.url.search).not.toContain(KEYS.secretKey);

    const { expect: wanted } = exchange;
    if (wanted.failure) {
      expect('err' in read && read.err).toBeInstanceOf(VendorError);
      const err = (read as { err: VendorError }).err;
      expect(err.kind).toBe(wanted.failure);
      if (typeof wanted.message === 'string') expect(err.message).toContain(wanted.message);
      if (wanted.window) expect((err as RateLimitedError).window).toEqual(wanted.window);
      if ('maxRows' in wanted) expect((err as BatchTooLargeError).maxRows).toBe(wanted.maxRows);
      return;
    }
    if ('err' in read) throw read.err;
    if (wanted.rows) {
      const outcomes = read.value as RowOutcome[];
      expect(outcomes.map((o) => o.status)).toEqual(wanted.rows);
      const rejected = outcomes.find((o) => o.status === 'rejected');
      if (typeof wanted.reason === 'string')
        expect(rejected).toMatchObject({ reason: expect.stringContaining(wanted.reason) });
    }
    if ('prospectId' in wanted) expect(read.value ?? null).toBe(wanted.prospectId);
    if (wanted.activities) {
      const { activities } = read.value as {
        activities: { event: number; createdOn?: string; data: Record<string, string> }[];
      };
      const seen = activities.map(({ event, createdOn, data }) => {
        const { [NOTE_DATA_KEY]: note, NotableEventDescription: _system, ...fields } = data;
        return { event, createdOn, note, fields };
      });
      expect(seen).toEqual(wanted.activities);
    }
  });
});

/** The client method that makes the exchange's request, with the rows read back from its body. */
function callFor(client: LeadSquaredClient, exchange: CorpusExchange): Promise<unknown> {
  const { path, body } = exchange.request;
  const url = new URL(path, BASE_URL);
  const endpoint = url.pathname.replace('/v2/', '');
  switch (endpoint) {
    case 'LeadManagement.svc/Lead.CreateOrUpdate':
      return client.createOrUpdateLead(leadOf(body, 1)).then((outcome) => [outcome]);
    case 'LeadManagement.svc/Lead/Bulk/CreateOrUpdate':
      return client.bulkCreateOrUpdateLeads((body as unknown[]).map((lead, i) => leadOf(lead, i + 1)));
    case 'LeadManagement.svc/Leads.GetByEmailaddress':
      return client.getLeadByEmail(url.searchParams.get('emailaddress')!);
    case 'ProspectActivity.svc/Retrieve': {
      const { Parameter, Paging } = body as {
        Parameter: { ActivityEvent: number };
        Paging: { Offset: number; RowCount: number };
      };
      return client.activitiesOfLead(
        url.searchParams.get('leadId')!,
        Parameter.ActivityEvent,
        Paging.Offset,
        Paging.RowCount,
      );
    }
    case 'ProspectActivity.svc/Bulk/CustomActivity/Add/ByLeadField':
      return client.postActivitiesByLeadField((body as unknown[]).map((activity, i) => activityOf(activity, i + 1)));
    default:
      throw new Error(`no client call for ${endpoint}: add one, or drop the exchange`);
  }
}

function leadOf(attributes: unknown, row: number): VendorRecord {
  const pairs = attributes as { Attribute: string; Value: string }[];
  const fields = Object.fromEntries(pairs.filter((p) => p.Attribute !== 'SearchBy').map((p) => [p.Attribute, p.Value]));
  return { row, email: fields.EmailAddress!, fields };
}

function activityOf(element: unknown, row: number): ActivityByEmail {
  const a = element as {
    SearchByValue: string;
    ActivityEvent: number;
    ActivityNote?: string;
    ActivityDateTime?: string;
    Fields: { SchemaName: string; Value: string }[];
  };
  return {
    row,
    email: a.SearchByValue,
    event: a.ActivityEvent,
    ...(a.ActivityNote === undefined ? {} : { note: a.ActivityNote }),
    ...(a.ActivityDateTime === undefined ? {} : { at: new Date(`${a.ActivityDateTime.replace(' ', 'T')}Z`) }),
    fields: Object.fromEntries(a.Fields.map((f) => [f.SchemaName, f.Value])),
  };
}

/**
 * How the simulator is made to give each exchange's answer: its options, and what to do first (real state: a lead
 * holding the phone; a full window; a fault). An exchange the simulator can give and that has no entry here fails.
 */
const ARRANGE: Record<
  string,
  { options?: Partial<LeadSquaredSimulatorOptions>; before?: (sim: RunningLeadSquaredSimulator) => Promise<void> }
> = {
  'upsert-accepted': {},
  'upsert-duplicate-phone-500': { before: (sim) => upsert(sim, 'first.holder@example.com', { Phone: '8888888888' }) },
  'upsert-bare-500': { before: (sim) => Promise.resolve(sim.setFaults({ bareErrorRate: 1 })) },
  'upsert-vendor-fault-500': { before: (sim) => Promise.resolve(sim.setFaults({ errorRate: 1 })) },
  'upsert-rate-limit-429': { before: (sim) => spend(sim, 25) },
  'upsert-rate-limit-200-exception-message': { options: { rateLimitStatus: 200 }, before: (sim) => spend(sim, 25) },
  'upsert-rate-limit-200-message': {
    options: { rateLimitStatus: 200, rateLimitText: 'Message', plan: 'lite' },
    before: (sim) => spend(sim, 2),
  },
  'upsert-auth-401': { before: (sim) => Promise.resolve(sim.setKeys({ accessKey: 'rotated', secretKey: 'rotated' })) },
  'bulk-accepted': {},
  'bulk-row-duplicate-phone': {},
  'bulk-row-unreadable': { before: (sim) => Promise.resolve(sim.setQuirks({ unreadableRows: ['odd@example.com'] })) },
  'bulk-vendor-fault-500': { before: (sim) => Promise.resolve(sim.setFaults({ errorRate: 1 })) },
  'bulk-too-large-400': {},
  'bulk-too-large-500': { options: { leadsPerBulkCall: 25, batchTooLargeStatus: 500 } },
  'lookup-hit': {
    before: (sim) =>
      upsert(sim, 'rizwan@example.com', {
        FirstName: 'Syed',
        LastName: 'Rizwan Ali',
        Company: 'Roga',
        SourceReferrer: '',
      }),
  },
  'lookup-miss': {},
  'retrieve-activities': {
    before: async (sim) => {
      await upsert(sim, 'user1@example.com', {});
      await post(sim, 'ProspectActivity.svc/Bulk/CustomActivity/Add/ByLeadField?searchBy=EmailAddress', [
        {
          SearchByValue: 'user1@example.com',
          ActivityEvent: 201,
          ActivityNote: 'call 1',
          ActivityDateTime: '2024-05-01 10:00:00',
          Fields: [{ SchemaName: 'mx_Custom_1', Value: 'outcome 1' }],
        },
      ]);
    },
  },
  'retrieve-activities-none': { before: (sim) => upsert(sim, 'user1@example.com', {}) },
  'bulk-activities-accepted': {
    before: async (sim) => {
      await upsert(sim, 'user1@example.com', {});
      await upsert(sim, 'user2@example.com', {});
    },
  },
  'bulk-activities-unknown-lead': { before: (sim) => upsert(sim, 'user1@example.com', {}) },
  'bulk-activities-rate-limit': {
    before: async (sim) => {
      await upsert(sim, 'user1@example.com', {});
      await post(sim, 'ProspectActivity.svc/Bulk/CustomActivity/Add/ByLeadField?searchBy=EmailAddress', []);
    },
  },
};

let simulator: RunningLeadSquaredSimulator | undefined;
afterEach(async () => {
  await simulator?.stop();
  simulator = undefined;
});

describe('the LeadSquared simulator answers every exchange of the corpus in its shape', () => {
  const simulated = [...CORPUS.entries()].filter(([, exchange]) => exchange.simulated);

  it.each(simulated)('%s', async (name, exchange) => {
    const arrange = ARRANGE[name];
    if (!arrange) throw new Error(`the corpus says the simulator can give '${name}': say how in ARRANGE`);
    simulator = await startLeadSquaredSimulator({ plan: 'enterprise', ...KEYS, ...arrange.options });
    await arrange.before?.(simulator);
    // A lead written by the arrangement may hold the leadId the exchange names: ask for the simulator's own.
    const path = await withOwnLeadId(simulator, exchange.request.path);

    const answer = await send(simulator, exchange.request.method, path, exchange.request.body);

    expect(answer.status).toBe(exchange.response.status);
    expect(shapeOf(answer.body)).toEqual(shapeOf(exchange.response.body));
  });

  it('has no arrangement for an exchange it cannot give', () => {
    const unknown = Object.keys(ARRANGE).filter((name) => !CORPUS.get(name)?.simulated);

    expect(unknown).toEqual([]);
  });
});

/**
 * A value's shape: its type, and for objects their keys' shapes. A list's shape is its elements' shapes, one per
 * element (row results differ between a landed and a refused row). null stands for "no value", as the vendor sends it.
 */
function shapeOf(value: unknown): unknown {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return value.map(shapeOf);
  if (typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, v]) => [key, shapeOf(v)]),
    );
  }
  return typeof value;
}

async function send(
  sim: RunningLeadSquaredSimulator,
  method: string,
  path: string,
  body: unknown,
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(new URL(path, sim.baseUrl), {
    method,
    headers: {
      'x-LSQ-AccessKey': KEYS.accessKey,
      'x-LSQ-SecretKey': KEYS.secretKey,
      'content-type': 'application/json',
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as unknown };
  } catch {
    return { status: response.status, body: text };
  }
}

async function post(sim: RunningLeadSquaredSimulator, path: string, body: unknown): Promise<void> {
  const answer = await send(sim, 'POST', path, body);
  if (answer.status !== 200) throw new Error(`arranging ${path}: HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
}

function upsert(sim: RunningLeadSquaredSimulator, email: string, fields: Record<string, string>): Promise<void> {
  const attributes = [
    { Attribute: 'EmailAddress', Value: email },
    ...Object.entries(fields).map(([Attribute, Value]) => ({ Attribute, Value })),
  ];
  return post(sim, 'LeadManagement.svc/Lead.CreateOrUpdate', attributes);
}

/** Fills the general lane's window: the next call is refused for rate. */
async function spend(sim: RunningLeadSquaredSimulator, calls: number): Promise<void> {
  for (let i = 0; i < calls; i++)
    await send(sim, 'GET', 'LeadManagement.svc/Leads.GetByEmailaddress?emailaddress=x%40example.com', undefined);
}

async function withOwnLeadId(sim: RunningLeadSquaredSimulator, path: string): Promise<string> {
  const [lead] = sim.leads();
  return lead && path.includes('leadId=') ? path.replace(/leadId=[^&]+/, `leadId=${lead.prospectId}`) : path;
}
