import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/observability/redactor.js';
import { ConfigError } from '../../src/core/errors.js';
import { TransientError, UnexpectedResponseError } from '../../src/vendors/errors.js';
import { requestJson, type HttpOptions } from '../../src/vendors/http.js';
import type { TransportRequest } from '../../src/vendors/transport.js';
import { failure } from '../helpers/failure.js';

const SECRET = 's3cr3t-Key/With+Chars';
const url = new URL(`https://api.example.test/v2/Thing.svc/Get?key=${encodeURIComponent(SECRET)}`);

function options(
  fake: (request: TransportRequest) => Promise<Response>,
  timeoutMs = 1000,
  maxAnswerBytes?: number,
): HttpOptions {
  return {
    label: "LeadSquared account 'acme'",
    timeoutMs,
    maxAnswerBytes,
    redactor: new Redactor([SECRET]),
    transport: fake,
  };
}

function networkError(message: string, cause: Error & { code?: string }): TypeError {
  return new TypeError(message, { cause });
}

describe('requestJson', () => {
  it('sends JSON and returns status, headers and the parsed body', async () => {
    let seen: TransportRequest | undefined;
    const response = await requestJson(
      { method: 'POST', url, headers: { 'x-key': 'k' }, body: [{ a: 1 }] },
      options(async (request) => {
        seen = request;
        return new Response('{"ok":true}', { status: 201, headers: { 'x-rate': '5' } });
      }),
    );

    expect(response).toMatchObject({ status: 201, body: { ok: true } });
    expect(response.headers.get('x-rate')).toBe('5');
    expect(seen?.body).toBe('[{"a":1}]');
    expect(seen?.headers).toMatchObject({ 'content-type': 'application/json', 'x-key': 'k' });
  });

  it('returns a body that is not JSON as text, and an empty one as the empty string', async () => {
    const text = await requestJson(
      { method: 'GET', url },
      options(async () => new Response('Too many', { status: 429 })),
    );
    const empty = await requestJson(
      { method: 'GET', url },
      options(async () => new Response(null, { status: 204 })),
    );

    expect(text.body).toBe('Too many');
    expect(empty.body).toBe('');
  });

  it('redacts a secret the vendor echoes in a body it returns', async () => {
    const response = await requestJson(
      { method: 'GET', url },
      options(async () => new Response(JSON.stringify({ message: `bad key ${SECRET}` }), { status: 401 })),
    );

    expect(response.body).toEqual({ message: 'bad key [REDACTED]' });
  });

  it('turns a 5xx into a TransientError naming the call without its query string or the echoed secret', async () => {
    const err = await failure(
      requestJson(
        { method: 'GET', url },
        options(async () => new Response(`boom for ${SECRET}`, { status: 503 })),
      ),
    );

    expect(err).toBeInstanceOf(TransientError);
    expect(err.message).toBe(
      "LeadSquared account 'acme': GET https://api.example.test/v2/Thing.svc/Get: HTTP 503: boom for [REDACTED]",
    );
  });

  it('returns a 5xx for the vendor to classify when asked', async () => {
    const response = await requestJson(
      { method: 'GET', url, returnServerErrors: true },
      options(async () => new Response('{"Status":"Error"}', { status: 500 })),
    );

    expect(response).toMatchObject({ status: 500, body: { Status: 'Error' } });
  });

  it('turns refused and reset connections into TransientErrors that say what happened', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const closed = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });

    const errRefused = await failure(
      requestJson(
        { method: 'GET', url },
        options(() => Promise.reject(networkError('fetch failed', refused))),
      ),
    );
    const errClosed = await failure(
      requestJson(
        { method: 'GET', url },
        options(() => Promise.reject(networkError('terminated', closed))),
      ),
    );

    expect(errRefused).toBeInstanceOf(TransientError);
    expect(errRefused.message).toContain('connect ECONNREFUSED 127.0.0.1:1');
    expect(errClosed).toBeInstanceOf(TransientError);
    expect(errClosed.message).toContain('UND_ERR_SOCKET: other side closed');
  });

  it('turns a timeout into a TransientError that names the deadline', async () => {
    const err = await failure(
      requestJson(
        { method: 'GET', url },
        options(
          ({ signal }) =>
            new Promise((_resolve, reject) => {
              signal.addEventListener('abort', () => reject(signal.reason));
            }),
          20,
        ),
      ),
    );

    expect(err).toBeInstanceOf(TransientError);
    expect(err.message).toContain('no answer within 20 ms');
  });

  it('lets any other failure through as a plain error, still redacted', async () => {
    const err = await failure(
      requestJson(
        { method: 'GET', url },
        options(() => Promise.reject(new TypeError(`Failed to parse URL from ${url.href}`))),
      ),
    );

    expect(err).not.toBeInstanceOf(TransientError);
    expect(err.message).not.toContain(SECRET);
    expect(err.message).not.toContain(encodeURIComponent(SECRET));
  });

  it('reads an answer of exactly maxAnswerBytes, and fails one byte more as a fault of the call naming it and the cap', async () => {
    const answer = (bytes: number) => async () => new Response(JSON.stringify('x'.repeat(bytes - 2)), { status: 200 });

    const whole = await requestJson({ method: 'GET', url }, options(answer(1024), 1000, 1024));
    const err = await failure(requestJson({ method: 'GET', url }, options(answer(1025), 1000, 1024)));

    expect(whole.body).toBe('x'.repeat(1022));
    expect(err).toBeInstanceOf(UnexpectedResponseError);
    expect(err.message).toBe(
      "LeadSquared account 'acme': GET https://api.example.test/v2/Thing.svc/Get: HTTP 200 answer larger than 1024 " +
        "bytes (the account's maxAnswerBytes): the rest was not read and the connection was closed",
    );
  });

  it('fails an answer whose declared length passes the cap without reading it, and closes the connection', async () => {
    let signal: AbortSignal | undefined;
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(64).fill(0x20));
        if (pulled * 64 === 2 * 1024) controller.close();
      },
    });

    const err = await failure(
      requestJson(
        { method: 'GET', url },
        options(
          async (request) => {
            signal = request.signal;
            return new Response(body, { status: 200, headers: { 'content-length': String(2 * 1024) } });
          },
          1000,
          1024,
        ),
      ),
    );

    expect(err).toBeInstanceOf(UnexpectedResponseError);
    expect(err.message).toContain('larger than 1024 bytes');
    expect(signal?.aborted).toBe(true);
    // A stream pulls ahead to fill its queue once when built; reading would pull again.
    expect(pulled).toBeLessThanOrEqual(1);
  });

  it.each(['http://api.example.test/v2/', 'http://10.0.0.5:8090/v2/', 'http://[fd00::2]:8090/v2/'])(
    'refuses to send a call over plain http to another machine (%s) before connecting',
    async (base) => {
      let fetched = false;

      const err = await failure(
        requestJson(
          { method: 'GET', url: new URL(`${base}Thing.svc/Get?key=${SECRET}`) },
          options(async () => {
            fetched = true;
            return new Response('[]');
          }),
        ),
      );

      expect(fetched).toBe(false);
      expect(err).toBeInstanceOf(ConfigError);
      expect(err.message).toMatch(
        /^LeadSquared account 'acme': GET http:\/\/.*: refused to send the keys over plain http/,
      );
      expect(err.message).not.toContain(SECRET);
    },
  );

  it.each(['http://127.0.0.1:8090/v2/', 'http://localhost:8090/v2/', 'http://[::1]:8090/v2/'])(
    'sends plain http to this machine (%s)',
    async (base) => {
      const response = await requestJson(
        { method: 'GET', url: new URL(`${base}Thing.svc/Get`) },
        options(async () => new Response('[]')),
      );

      expect(response.body).toEqual([]);
    },
  );
});
