import { ConfigError } from '../core/errors.js';
import { isHttpsOrLoopback } from '../core/loopback.js';
import type { Redactor } from '../observability/redactor.js';
import { TransientError, UnexpectedResponseError } from './errors.js';
import { keepAliveTransport, type HttpMethod, type Transport, type TransportAnswer } from './transport.js';
import { USER_AGENT } from './user-agent.js';

export interface JsonRequest {
  method: HttpMethod;
  url: URL;
  headers?: Record<string, string>;
  /** Sent as JSON when present. */
  body?: unknown;
  /**
   * Return 5xx answers for the vendor to classify instead of failing them as transient, for a vendor whose
   * error bodies mean the same on any status (LeadSquared's rate-limit envelope).
   */
  returnServerErrors?: boolean;
}

/** A response the vendor module classifies: anything that arrived whole, below 500 unless asked otherwise. */
export interface JsonResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON, or the raw text when the body is not JSON ('' when empty). Known secrets are already redacted. */
  body: unknown;
}

export interface HttpOptions {
  /** Names the caller in every error text: the vendor and the account, e.g. `LeadSquared account 'acme'`. */
  label: string;
  timeoutMs: number;
  /** The account's maxAnswerBytes; DEFAULT_MAX_ANSWER_BYTES when not given. */
  maxAnswerBytes?: number;
  redactor: Redactor;
  /** keepAliveTransport unless given one: a test answers with its own. */
  transport?: Transport;
}

/**
 * The largest answer read by default: 8 MiB. The largest documented answers are far below it: a page of 100 SmartLead
 * leads is about 55 KB as the reference shows them (1 MB with twenty 500-character custom fields each), a
 * LeadSquared bulk answer of 50 rows about 6 KB, a page of 50 activities or a lead with hundreds of fields some
 * hundreds of KB. Reading an answer takes about 6 times its size at the peak (bytes, text, redacted text, parsed
 * JSON): 8 MiB costs a worker some 50 MiB per call at worst.
 */
export const DEFAULT_MAX_ANSWER_BYTES = 8 * 1024 * 1024;

/** How much of a 5xx body goes into the error text: enough to recognise the failure, not a whole HTML page. */
const BODY_EXCERPT_CHARS = 300;

/**
 * One JSON call with a deadline and a size limit. Network failures, timeouts, dropped connections and 5xx become a
 * TransientError; every other answer is returned for the vendor to classify. Error texts name the call by
 * method, origin and path only, since a query string may carry credentials, and pass through the redactor
 * in case the vendor echoes a secret back.
 */
export async function requestJson(request: JsonRequest, options: HttpOptions): Promise<JsonResponse> {
  const transport = options.transport ?? keepAliveTransport;
  const call = `${options.label}: ${request.method} ${request.url.origin}${request.url.pathname}`;
  // Every vendor call carries the account's keys; the config refuses such a baseUrl, this holds for any caller.
  if (!isHttpsOrLoopback(request.url)) {
    throw new ConfigError(
      options.redactor.redact(
        `${call}: refused to send the keys over plain http:// to another machine: the address must be https:// ` +
          '(http:// only to localhost, 127.0.0.0/8 or ::1)',
      ),
    );
  }
  const fail = (what: string) => new TransientError(options.redactor.redact(`${call}: ${what}`));
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': USER_AGENT, ...request.headers };
  if (request.body !== undefined) headers['content-type'] = 'application/json';
  const maxBytes = options.maxAnswerBytes ?? DEFAULT_MAX_ANSWER_BYTES;
  // One controller for the deadline and the size limit: either ends the call and closes its connection.
  const abort = new AbortController();
  let timedOut = false;
  const deadline = setTimeout(() => {
    timedOut = true;
    abort.abort(new DOMException(`no answer within ${options.timeoutMs} ms`, 'TimeoutError'));
  }, options.timeoutMs);

  let text: string | undefined;
  let response: TransportAnswer;
  try {
    // The transport never follows a redirect: it would carry the keys (LeadSquared's headers, SmartLead's query) to
    // wherever it points.
    response = await transport({
      method: request.method,
      url: request.url,
      headers,
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      signal: abort.signal,
    });
    // The body is read inside the same deadline: a connection dropped mid-body is as transient as one never made.
    text = await readLimited(response, maxBytes, () => abort.abort());
  } catch (err) {
    // Whatever error the deadline's abort surfaced as (an AbortError, a body stream torn down mid-read), it was the deadline.
    if (timedOut) throw fail(`no answer within ${options.timeoutMs} ms`);
    if (isNetworkFailure(err)) throw fail(`network failure (${describeNetworkFailure(err)})`);
    throw new Error(options.redactor.redact(`${call}: ${errorMessage(err)}`));
  } finally {
    clearTimeout(deadline);
  }
  // Not transient: an answer's size follows from what was asked and what the account holds, so the same call draws
  // the same answer again, and each retry would spend the lane's calls and the worker's memory on it.
  if (text === undefined) {
    throw new UnexpectedResponseError(
      options.redactor.redact(
        `${call}: HTTP ${response.status} answer larger than ${maxBytes} bytes (the account's maxAnswerBytes): ` +
          'the rest was not read and the connection was closed',
      ),
    );
  }

  if (response.status >= 300 && response.status < 400) {
    throw refusedRedirect(call, request.url, response, options.redactor);
  }

  // Redacting the raw text before parsing means no vendor message built from this body can carry a secret.
  const redacted = options.redactor.redact(text);
  if (response.status >= 500 && !request.returnServerErrors) {
    throw fail(`HTTP ${response.status}${redacted ? `: ${excerpt(redacted)}` : ''}`);
  }
  return { status: response.status, headers: response.headers, body: parseBody(redacted) };
}

/**
 * The body as text, or undefined as soon as it passes `maxBytes`, declared or counted as it streams in: then `abort`
 * closes the connection and nothing more is read.
 */
async function readLimited(
  response: TransportAnswer,
  maxBytes: number,
  abort: () => void,
): Promise<string | undefined> {
  if (Number(response.headers.get('content-length') ?? 0) > maxBytes) {
    abort();
    return undefined;
  }
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const value of response.body) {
    size += value.byteLength;
    if (size > maxBytes) {
      abort();
      return undefined;
    }
    chunks.push(value);
  }
  // As Response.text() decodes: UTF-8, a byte order mark dropped.
  return new TextDecoder().decode(Buffer.concat(chunks));
}

/** A redirect fails the call for good: the fix is a baseUrl naming the address the vendor really answers on. */
function refusedRedirect(
  call: string,
  requested: URL,
  response: TransportAnswer,
  redactor: Redactor,
): UnexpectedResponseError {
  const location = response.headers.get('location');
  let target = 'no location';
  if (location !== null) {
    try {
      const url = new URL(location, requested);
      target = `${url.origin}${url.pathname}`;
    } catch {
      target = 'an unreadable location';
    }
  }
  return new UnexpectedResponseError(
    redactor.redact(
      `${call}: HTTP ${response.status} redirects to ${target}; vendor calls do not follow redirects, since the ` +
        "credentials would go along: set the account's baseUrl to the address that answers",
    ),
  );
}

function parseBody(text: string): unknown {
  if (text.trim() === '') return '';
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > BODY_EXCERPT_CHARS ? `${flat.slice(0, BODY_EXCERPT_CHARS)}…` : flat;
}

/**
 * Codes and messages Node gives a connection that failed or broke (node:http's, and undici's for a transport built on
 * fetch); a cause chain is walked in case a transport wraps them.
 */
const NETWORK_CODES =
  /^(ECONNRESET|ECONNREFUSED|ECONNABORTED|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|UND_ERR_\w+)$/;
const NETWORK_MESSAGES = /^(fetch failed|terminated|socket hang up|other side closed)$/i;

function isNetworkFailure(err: unknown): boolean {
  return causeChain(err).some(
    (e) => (typeof e.code === 'string' && NETWORK_CODES.test(e.code)) || NETWORK_MESSAGES.test(e.message),
  );
}

/** The innermost cause says what happened ('ECONNREFUSED', 'socket hang up'); a wrapper's outer ones say less. */
function describeNetworkFailure(err: unknown): string {
  const chain = causeChain(err);
  const innermost = chain[chain.length - 1];
  if (!innermost) return 'unknown';
  return innermost.code && !innermost.message.includes(innermost.code)
    ? `${innermost.code}: ${innermost.message}`
    : innermost.message;
}

function causeChain(err: unknown): { code?: string; message: string }[] {
  const chain: { code?: string; message: string }[] = [];
  let current: unknown = err;
  while (current instanceof Error && chain.length < 10) {
    const code = (current as { code?: unknown }).code;
    chain.push({ code: typeof code === 'string' ? code : undefined, message: current.message });
    current = current.cause;
  }
  return chain;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
