import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redactor } from '../../src/observability/redactor.js';
import { TransientError } from '../../src/vendors/errors.js';
import { requestJson } from '../../src/vendors/http.js';
import { failure } from '../helpers/failure.js';

// undici's real failures (not hand-made look-alikes): a socket destroyed before and during the body, a hang.
const SECRET = 'real-server-secret-1234';
let server: Server;
let base: string;

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
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ echoed: req.url }));
  });
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
