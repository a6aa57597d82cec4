import { describe, expect, it } from 'vitest';
import { loadCorpus } from '../../src/vendors/corpus.js';
import { VendorError, type BatchTooLargeError } from '../../src/vendors/errors.js';
import type { Transport } from '../../src/vendors/transport.js';
import { VENDORS } from '../../src/vendors/registry.js';
import type { CallResult } from '../../src/vendors/types.js';
import type { ClientRead, SentRequest, VendorContract } from './vendor-contract.js';

/**
 * Every vendor of the registry held to its contract corpus (src/vendors/<vendor>/corpus/): its client reads every
 * exchange as the exchange expects, and its simulator gives every answer it can in the recorded shape. What is
 * particular to a vendor comes from its folder's test/contract.ts; a vendor without one fails here.
 */
const contracts = await Promise.all(
  VENDORS.vendors.map(async (vendor) => {
    const { contract } = (await import(`../../src/vendors/${vendor.name}/test/contract.ts`)) as {
      contract: VendorContract;
    };
    return { name: vendor.name, contract, corpus: loadCorpus(contract.corpus) };
  }),
);

describe.each(contracts)('the $name contract', ({ contract, corpus }) => {
  it('has a corpus covering success, refusals, limits and auth, each exchange saying what the record shows of it', () => {
    const standings = new Set([...corpus.values()].map((exchange) => exchange.standing));

    expect(corpus.size).toBeGreaterThanOrEqual(20);
    expect(standings).toEqual(new Set(['documented', 'independent-client', 'inferred', 'assumed']));
  });

  it.each([...corpus])('the client reads %s as the corpus expects', async (_name, exchange) => {
    const sent: SentRequest[] = [];
    const recorded: Transport = (request) => {
      const body = request.body === undefined ? undefined : (JSON.parse(request.body) as unknown);
      sent.push({ method: request.method, url: request.url, body });
      const { status, headers, body: answer } = exchange.response;
      return Promise.resolve(
        new Response(typeof answer === 'string' ? answer : JSON.stringify(answer), { status, headers }),
      );
    };

    const read: ClientRead = await contract.replay(exchange, recorded).then(
      (value) => ({ value }),
      (err: unknown) => ({ err }),
    );

    // The client sends the request the exchange shows: method, path and query.
    const expected = contract.url(exchange.request.path);
    expect(sent).toHaveLength(1);
    const [request] = sent as [SentRequest];
    expect(request.method).toBe(exchange.request.method);
    expect(request.url.pathname).toBe(expected.pathname);
    for (const [name, value] of expected.searchParams) expect(request.url.searchParams.get(name)).toBe(value);
    contract.expectRequest?.(request, exchange);

    const { expect: wanted } = exchange;
    if (wanted.failure) {
      expect('err' in read && read.err).toBeInstanceOf(VendorError);
      const err = (read as { err: VendorError }).err;
      expect(err.kind).toBe(wanted.failure);
      if (typeof wanted.message === 'string') expect(err.message).toContain(wanted.message);
      if (wanted.maxRows !== undefined) expect((err as BatchTooLargeError).maxRows).toBe(wanted.maxRows);
    } else {
      if ('err' in read) throw read.err;
      if (wanted.rows) {
        const { outcomes } = read.value as CallResult;
        expect(outcomes.map((outcome) => outcome.status)).toEqual(wanted.rows);
        if (typeof wanted.reason === 'string') {
          for (const rejected of outcomes.filter((outcome) => outcome.status === 'rejected')) {
            expect(rejected).toMatchObject({ reason: expect.stringContaining(wanted.reason) });
          }
        }
      }
    }
    contract.expectRead?.(read, exchange);
  });

  const { simulator } = contract;
  if (!simulator) return;
  const simulated = [...corpus].filter(([, exchange]) => exchange.simulated);

  it('has its simulator give most of the corpus, each by an arrangement; the rest only a real vendor or a fault gives', () => {
    expect(simulated.length).toBeGreaterThanOrEqual(corpus.size / 2);
    expect([...simulator.arranged].sort()).toEqual(simulated.map(([name]) => name).sort());
  });

  it.each(simulated)('the simulator answers %s in the recorded shape', async (name, exchange) => {
    const answer = await simulator.answer(name, exchange);

    expect(answer.status).toBe(exchange.response.status);
    expect(simulator.shapeDifferences(exchange.response.body, answer.body)).toEqual([]);
    for (const header of Object.keys(exchange.response.headers ?? {})) {
      expect(answer.headers.has(header), `header ${header}`).toBe(true);
    }
  });
});
