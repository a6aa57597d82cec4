import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redactor } from '../../src/observability/redactor.js';
import { TransientError } from '../../src/vendors/errors.js';
import { requestJson } from '../../src/vendors/http.js';
import { failure } from '../helpers/failure.js';

// The transport's real failures (not hand-made look-alikes): a socket destroyed before and during the body, a hang
// before the answer and in its middle; and how long it keeps a connection.
const SECRET = 'real-server-secret-1234';
let server: Server;
let base: string;
let accepted = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url?.startsWith('/drop')) return req.socket.destroy();
    if (req.url?.startsWith('/half')) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"partial":');
      setTimeout(() => req.socket.destroy(), 20);
      return;
    }
    if (req.url?.startsWith('/hang')) return;
    if (req.url?.startsWith('/stall')) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"partial":');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ echoed: req.url }));
  });
  // Longer than any wait below, as a vendor behind a load balancer keeps its connections; not announced.
  server.keepAliveTimeout = 30_000;
  server.on('connection', () => accepted++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const options = { label: "LeadSquared account 'acme'", timeoutMs: 300, redactor: new Redactor([SECRET]) };
const get = (path: string) => requestJson({ method: 'GET', url: new URL(`${base}${path}?key=${SECRET}`) }, options);

describe('requestJson against a real server', () => {
  it('redacts a secret echoed from the query string', async () => {
    const response = await get('/echo');

    expect(response.body).toEqual({ echoed: '/echo?key=[REDACTED]' });
  });

  it.each([
    ['a connection dropped before the answer', '/drop'],
    ['a connection dropped mid-body', '/half'],
    ['no answer before the deadline', '/hang'],
  ])('turns %s into a TransientError without the secret', async (_case, path) => {
    const err = await failure(get(path));

    expect(err).toBeInstanceOf(TransientError);
    expect(err.message.startsWith(`LeadSquared account 'acme': GET ${base}${path}: `)).toBe(true);
    expect(err.message).not.toContain(SECRET);
  });

  it('names the deadline when it passes in the middle of the body', async () => {
    const err = await failure(get('/stall'));

    expect(err).toBeInstanceOf(TransientError);
    expect(err.message).toBe(`LeadSquared account 'acme': GET ${base}/stall: no answer within 300 ms`);
  });

  it("keeps a connection across a gap longer than a window, and longer than fetch's 4 s", async () => {
    await get('/echo');
    const before = accepted;

    await sleep(4_500);
    await get('/echo');
    await get('/echo');

    expect(accepted).toBe(before);
  });

  it("lets go of a connection a second before the server's announced keep-alive ends, and never sends on it", async () => {
    let hinted = 0;
    const short = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    // node:http announces it: `Keep-Alive: timeout=2`.
    short.keepAliveTimeout = 2_000;
    short.on('connection', () => hinted++);
    await new Promise<void>((resolve) => short.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(short.address() as AddressInfo).port}`;
    const call = () => requestJson({ method: 'POST', url: new URL(`${origin}/v2/`), body: {} }, options);
    try {
      await call();
      await sleep(500);
      await call();
      // Past the hint less a second (1 s), within the server's 2 s: the socket would still take the call, but a slower
      // one would land as the server closes it, and a POST reset there loses its answer.
      await sleep(1_300);
      await call();
    } finally {
      short.closeAllConnections();
      await new Promise((resolve) => short.close(resolve));
    }

    expect(hinted).toBe(2);
  });

  it('turns a refused connection into a TransientError', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));

    const err = await failure(requestJson({ method: 'GET', url: new URL(`http://127.0.0.1:${port}/v2/`) }, options));

    expect(err).toBeInstanceOf(TransientError);
    expect(err.message).toContain('ECONNREFUSED');
  });
});
