import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnexpectedResponseError } from '../../src/vendors/errors.js';
import { LeadSquaredClient } from '../../src/vendors/leadsquared/api.js';

const ACCESS_KEY = 'redirect-access-key-1234';
const SECRET_KEY = 'redirect-secret-key-5678';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('a vendor call answered with a redirect', () => {
  const reachedElsewhere: IncomingHttpHeaders[] = [];
  let elsewhere: Server;
  let vendor: Server;
  let vendorBase: string;
  let elsewhereBase: string;

  beforeAll(async () => {
    elsewhere = createServer((request, response) => {
      reachedElsewhere.push(request.headers);
      response.writeHead(200, { 'content-type': 'application/json' }).end('[]');
    });
    elsewhereBase = await listen(elsewhere);
    vendor = createServer((request, response) => {
      response.writeHead(307, { location: `${elsewhereBase}/v2${request.url ?? '/'}` }).end();
    });
    vendorBase = await listen(vendor);
  });

  afterAll(async () => {
    for (const server of [vendor, elsewhere]) await new Promise((resolve) => server.close(resolve));
  });

  it('is refused, naming the redirect, and the keys never reach where it points', async () => {
    const client = new LeadSquaredClient({
      accountName: 'acme',
      baseUrl: `${vendorBase}/v2/`,
      accessKey: ACCESS_KEY,
      secretKey: SECRET_KEY,
      timeoutMs: 2_000,
    });

    const err = await client.getLeadByEmail('ada@example.com').then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(err).toBeInstanceOf(UnexpectedResponseError);
    expect((err as Error).message).toContain(`HTTP 307 redirects to ${elsewhereBase}/v2/`);
    expect((err as Error).message).toMatch(/do not follow redirects.*baseUrl/);
    expect((err as Error).message).not.toContain('ada@example.com');
    expect(reachedElsewhere).toEqual([]);
  });
});
