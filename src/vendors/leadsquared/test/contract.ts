import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { expect } from 'vitest';
import type { ClientRead, SimulatedAnswer, VendorContract } from '../../../../test/contract/vendor-contract.js';
import {
  startLeadSquaredSimulator,
  type LeadSquaredSimulatorOptions,
  type RunningLeadSquaredSimulator,
} from '../simulator/server.js';
import type { CorpusExchange } from '../../corpus.js';
import type { RateLimitedError } from '../../errors.js';
import { NOTE_DATA_KEY, type ActivityByEmail } from '../sales-activities.js';
import { LeadSquaredClient } from '../api.js';
import type { VendorRecord } from '../../types.js';

const KEYS = { accessKey: 'contract-access-key', secretKey: 'contract-secret-key' };
const BASE_URL = 'https://api-in21.leadsquared.com/v2/';

/** LeadSquared's part of the contract runner (test/contract/vendors.test.ts). */
export const contract: VendorContract = {
  corpus: join(import.meta.dirname, '../corpus'),
  url: (path) => new URL(path, BASE_URL),
  replay(exchange, answer) {
    return callFor(
      new LeadSquaredClient({ accountName: 'acme', baseUrl: BASE_URL, ...KEYS, timeoutMs: 5_000, transport: answer }),
      exchange,
    );
  },
  // The body the exchange shows; the keys go in headers, never the query.
  expectRequest(sent, exchange) {
    expect(sent.body).toEqual(exchange.request.body);
    expect(sent.url.search).not.toContain(KEYS.secretKey);
  },
  expectRead(read, { expect: wanted }) {
    if (wanted.window) expect((errorOf(read) as RateLimitedError).window).toEqual(wanted.window);
    if (!('value' in read)) return;
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
  },
  simulator: {
    get arranged() {
      return Object.keys(ARRANGE);
    },
    async answer(name, exchange) {
      const arrange = ARRANGE[name];
      if (!arrange) throw new Error(`the corpus says the simulator can give '${name}': say how in ARRANGE`);
      const simulator = await startLeadSquaredSimulator({ plan: 'enterprise', ...KEYS, ...arrange.options });
      try {
        await arrange.before?.(simulator);
        // A lead written by the arrangement may hold the leadId the exchange names: ask for the simulator's own.
        const path = await withOwnLeadId(simulator, exchange.request.path);
        return await send(simulator, exchange.request.method, path, exchange.request.body);
      } finally {
        await simulator.stop();
      }
    },
    shapeDifferences(recorded, given) {
      const [want, got] = [shapeOf(recorded), shapeOf(given)];
      return isDeepStrictEqual(want, got) ? [] : [`recorded ${JSON.stringify(want)}, given ${JSON.stringify(got)}`];
    },
  },
};

function errorOf(read: ClientRead): unknown {
  return 'err' in read ? read.err : undefined;
}

/** The client method that makes the exchange's request, with the rows read back from its body. */
function callFor(client: LeadSquaredClient, exchange: CorpusExchange): Promise<unknown> {
  const { path, body } = exchange.request;
  const url = new URL(path, BASE_URL);
  const endpoint = url.pathname.replace('/v2/', '');
  switch (endpoint) {
    case 'LeadManagement.svc/Lead.CreateOrUpdate':
      return client.createOrUpdateLead(leadOf(body, 1)).then((outcome) => ({ outcomes: [outcome] }));
    case 'LeadManagement.svc/Lead/Bulk/CreateOrUpdate':
      return client
        .bulkCreateOrUpdateLeads((body as unknown[]).map((lead, i) => leadOf(lead, i + 1)))
        .then((outcomes) => ({ outcomes }));
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
      return client
        .postActivitiesByLeadField((body as unknown[]).map((activity, i) => activityOf(activity, i + 1)))
        .then((outcomes) => ({ outcomes }));
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
): Promise<SimulatedAnswer> {
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
    return { status: response.status, headers: response.headers, body: JSON.parse(text) as unknown };
  } catch {
    return { status: response.status, headers: response.headers, body: text };
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
