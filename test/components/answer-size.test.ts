import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnexpectedResponseError } from '../../src/vendors/errors.js';
import { LeadSquaredClient } from '../../src/vendors/leadsquared/api.js';
import { SmartLeadApi } from '../../src/vendors/smartlead/api.js';
import { failure } from '../helpers/failure.js';

const API_KEY = 'huge-answer-api-key-1234';
const MiB = 1024 * 1024;
/** What the vendor would send in all: far past any cap, as the review's 64 MiB answer was. */
const ANSWER_BYTES = 64 * MiB;

/** How one answer went on the server's side: the bytes it got out before the connection closed, and whether all. */
interface Sent {
  bytes: number;
  finished: boolean;
}

/**
 * A vendor answering every call with a 64 MiB JSON string, streamed in 64 KiB chunks as fast as the client takes
 * them, without a length (as a chunked answer comes) or, under /declared, with it.
 */
function hugeVendor(): { server: Server; answers: Promise<Sent>[] } {
  const answers: Promise<Sent>[] = [];
  const chunk = Buffer.alloc(64 * 1024, 'a');
  const server = createServer((request, response) => {
    request.resume();
    const declared = request.url?.includes('/declared') ?? false;
    response.writeHead(200, {
      'content-type': 'application/json',
      ...(declared ? { 'content-length': String(ANSWER_BYTES) } : {}),
    });
    let bytes = 0;
    answers.push(once(response, 'close').then(() => ({ bytes, finished: response.writableFinished })));
    response.write('"');
    bytes += 1;
    const pump = () => {
      while (bytes + chunk.length < ANSWER_BYTES && !response.destroyed) {
        bytes += chunk.length;
        if (!response.write(chunk)) return void response.once('drain', pump);
      }
      if (!response.destroyed) response.end('a'.repeat(ANSWER_BYTES - bytes - 1) + '"');
    };
    pump();
  });
  return { server, answers };
}

describe('a vendor answer larger than the cap', () => {
  const vendor = hugeVendor();
  let base: string;

  beforeAll(async () => {
    vendor.server.listen(0, '127.0.0.1');
    await once(vendor.server, 'listening');
    base = `http://127.0.0.1:${(vendor.server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    vendor.server.closeAllConnections();
    await new Promise((resolve) => vendor.server.close(resolve));
  });

  it('fails the call naming the account, the endpoint and the cap, without the key, and closes the connection', async () => {
    const api = new SmartLeadApi({
      baseUrl: base,
      apiKey: API_KEY,
      timeoutMs: 30_000,
      maxAnswerBytes: MiB,
      label: "smartlead account 'outbound'",
    });

    const err = await failure(api.getCampaign(42));
    const sent = await vendor.answers.at(-1);

    expect(err).toBeInstanceOf(UnexpectedResponseError);
    expect(err.message).toBe(
      `smartlead account 'outbound': GET ${base}/campaigns/42: HTTP 200 answer larger than 1048576 bytes ` +
        "(the account's maxAnswerBytes): the rest was not read and the connection was closed",
    );
    expect(err.message).not.toContain(API_KEY);
    // The client hung up: what the server got out is the cap and what the sockets' buffers took, not the answer.
    expect(sent?.finished).toBe(false);
    expect(sent?.bytes).toBeLessThan(ANSWER_BYTES / 2);
  });

  it('fails an answer whose declared length passes the cap before reading its body', async () => {
    const client = new LeadSquaredClient({
      accountName: 'acme',
      baseUrl: `${base}/declared/v2/`,
      accessKey: 'huge-answer-access-key',
      secretKey: 'huge-answer-secret-key',
      timeoutMs: 30_000,
      maxAnswerBytes: MiB,
    });

    const err = await failure(client.getLeadByEmail('ada@example.com'));
    const sent = await vendor.answers.at(-1);

    expect(err).toBeInstanceOf(UnexpectedResponseError);
    expect(err.message).toMatch(
      new RegExp(`^LeadSquared account 'acme': GET ${base}/declared/v2/LeadManagement.svc/Leads.GetByEmailaddress: `),
    );
    expect(err.message).toContain('larger than 1048576 bytes');
    expect(err.message).not.toContain('ada@example.com');
    expect(sent?.finished).toBe(false);
    expect(sent?.bytes).toBeLessThan(ANSWER_BYTES / 2);
  });

  it("holds the worker's memory to about the default cap: a 64 MiB answer raises the peak RSS by under 96 MiB", async () => {
    // Read whole, the answer raised the peak by 330 to 430 MiB (text, redacted text and parsed JSON at once).
    const client = new LeadSquaredClient({
      accountName: 'acme',
      baseUrl: `${base}/v2/`,
      accessKey: 'huge-answer-access-key',
      secretKey: 'huge-answer-secret-key',
      timeoutMs: 30_000,
    });
    const peakBefore = process.resourceUsage().maxRSS * 1024;
    const before = Math.max(process.memoryUsage().rss, peakBefore);

    const err = await failure(client.getLeadByEmail('ada@example.com'));
    const growth = process.resourceUsage().maxRSS * 1024 - before;

    expect(growth).toBeLessThan(96 * MiB);
    expect(err.message).toContain(`larger than ${8 * MiB} bytes`);
  });
});
