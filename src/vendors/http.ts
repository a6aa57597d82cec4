import type { Redactor } from '../observability/redactor.js';
import { TransientError, UnexpectedResponseError } from './errors.js';
import { USER_AGENT } from './user-agent.js';

export interface JsonRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
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
  timeoutMs: number;
  redactor: Redactor;
  fetch?: typeof fetch;
}

/** How much of a 5xx body goes into the error text: enough to recognise the failure, not a whole HTML page. */
const BODY_EXCERPT_CHARS = 300;

/**
 * One JSON call with a deadline. Network failures, timeouts, dropped connections and 5xx become a
 * TransientError; every other answer is returned for the vendor to classify. Error texts name the call by
 * method, origin and path only, since a query string may carry credentials, and pass through the redactor
 * in case the vendor echoes a secret back.
 */
export async function requestJson(request: JsonRequest, options: HttpOptions): Promise<JsonResponse> {
  const doFetch = options.fetch ?? fetch;
  const call = `${request.method} ${request.url.origin}${request.url.pathname}`;
  const fail = (what: string) => new TransientError(options.redactor.redact(`${call}: ${what}`));
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': USER_AGENT, ...request.headers };
  if (request.body !== undefined) headers['content-type'] = 'application/json';

  let text: string;
  let response: Response;
  try {
    response = await doFetch(request.url, {
      method: request.method,
      headers,
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      signal: AbortSignal.timeout(options.timeoutMs),
      // A followed redirect would carry the keys (LeadSquared's headers, SmartLead's query) to wherever it points.
      redirect: 'manual',
    });
    // The body is read inside the same deadline: a connection dropped mid-body is as transient as one never made.
    text = await response.text();
  } catch (err) {
    if (isTimeout(err)) throw fail(`no answer within ${options.timeoutMs} ms`);
    if (isNetworkFailure(err)) throw fail(`network failure (${describeNetworkFailure(err)})`);
    throw new Error(options.redactor.redact(`${call}: ${errorMessage(err)}`));
  }

  if (response.status >= 300 && response.status < 400) throw refusedRedirect(call, response, options.redactor);

  // Redacting the raw text before parsing means no vendor message built from this body can carry a secret.
  const redacted = options.redactor.redact(text);
  if (response.status >= 500 && !request.returnServerErrors) {
    throw fail(`HTTP ${response.status}${redacted ? `: ${excerpt(redacted)}` : ''}`);
  }
  return { status: response.status, headers: response.headers, body: parseBody(redacted) };
}

/** A redirect fails the call for good: the fix is a baseUrl naming the address the vendor really answers on. */
function refusedRedirect(call: string, response: Response, redactor: Redactor): UnexpectedResponseError {
  const location = response.headers.get('location');
  let target = 'no location';
  if (location !== null) {
    try {
      const url = new URL(location, response.url || undefined);
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

function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
}

/** Codes Node and undici give a connection that failed or broke; a cause chain is walked because fetch wraps them. */
const NETWORK_CODES =
  /^(ECONNRESET|ECONNREFUSED|ECONNABORTED|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|UND_ERR_\w+)$/;
const NETWORK_MESSAGES = /^(fetch failed|terminated|socket hang up|other side closed)$/i;

function isNetworkFailure(err: unknown): boolean {
  return causeChain(err).some(
    (e) => (typeof e.code === 'string' && NETWORK_CODES.test(e.code)) || NETWORK_MESSAGES.test(e.message),
  );
}

/** The innermost cause says what happened ('other side closed', 'ECONNREFUSED'); the outer ones say 'fetch failed'. */
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
