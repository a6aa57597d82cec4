import {
  AuthError,
  BatchRefusedError,
  BatchTooLargeError,
  MAX_VENDOR_WAIT_MS,
  NotFoundError,
  RateLimitedError,
  UnexpectedResponseError,
  type VendorError,
} from '../errors.js';
import type { QuotaReading } from '../../core/plans.js';
import { FailureBodySchema, type FailureBody } from './schemas.js';

/** What classification reads of an answer. `call` names the account and endpoint, never the query string. */
export interface Answer {
  call: string;
  status: number;
  headers: Headers;
  body: unknown;
}

/** What the caller asked for, so a refusal can say what to fix. */
export interface CallContext {
  /** What a 404 means for this call, e.g. `campaign 42`. */
  target: string;
  /** Leads sent, for calls that carry a lead_list: a 400 or 422 then refuses the batch's size or some of its leads. */
  leadsSent?: number;
}

/** SmartLead's documented maximum of leads per add-leads call (older docs: 350, 100). */
export const MAX_LEADS_PER_CALL = 400;
/** The seed: "most rate limit windows reset within 60 seconds". Used only when a 429 names no delay at all. */
const UNSTATED_RETRY_AFTER_MS = 60_000;
const RATE_LIMIT_CODE = 'RATE_LIMIT_EXCEEDED';
const AUTH_CODE = /^(UNAUTHORI[SZ]ED|INVALID_API_KEY|FORBIDDEN)$/i;
/** The analytics endpoints answer a rate limit in plain text, which may still name its delay. */
const SECONDS_IN_TEXT = /(\d+(?:\.\d+)?)\s*(?:s\b|sec|second)/i;
/** "Maximum 400 leads per request", "at most 400 leads": a maximum counted in leads, not a field's length. */
const MAX_LEADS_IN_TEXT =
  /\b(?:max(?:imum)?(?: of)?|at most|up to|limit(?: of)?)\s*(\d+)\s*(?:leads?|rows?|records?)\b/i;
const BODY_EXCERPT_CHARS = 300;
/** An X-RateLimit-Reset below this is seconds left in the window, not a unix time (10^9 s is September 2001). */
const SMALLEST_UNIX_RESET = 1e9;
/** ...and one above this is a unix time in milliseconds (10^12 s is the year 33658). */
const LARGEST_UNIX_SECONDS_RESET = 1e12;
/** Cloudflare's "browser signature banned", answered in HTML, plain text or JSON before the request reaches SmartLead. */
const CLOUDFLARE_BAN = /error code:?\s*1010|\berror[ _]?1010\b|browser_signature_banned/i;

/**
 * Failures of the whole call, whatever the endpoint: undefined when the answer is a success to parse. HTTP 200
 * with `success:false` or `ok:false` is a failure too (assumed: no page shows one, clients model the flag).
 */
export function callFailure(answer: Answer, context: CallContext, nowMs = Date.now()): VendorError | undefined {
  const failure = failureBody(answer.body);
  const code = typeof failure?.error === 'object' ? failure.error?.code : undefined;
  if (answer.status === 429 || code === RATE_LIMIT_CODE) {
    return new RateLimitedError(
      `${answer.call}: rate limited by SmartLead (HTTP ${answer.status})${detail(answer)}`,
      retryAfterMs(answer.headers, answer.body, nowMs),
      undefined,
      quotaOf(answer.headers, nowMs)?.limit,
    );
  }
  if (answer.status === 403 && isCloudflareBan(answer)) {
    // Not the key: retrying the same client cannot pass, and rotating the key would not help either.
    return new UnexpectedResponseError(
      `${answer.call}: Cloudflare in front of SmartLead refused the request before SmartLead saw it (HTTP 403, error ` +
        `1010: the client's signature is banned). This is not a bad API key: leadsync sends its own User-Agent, so ` +
        `look for a proxy or gateway between the worker and SmartLead that strips or rewrites it, or ask SmartLead ` +
        `support to allow the worker's address`,
    );
  }
  if (answer.status === 401 || AUTH_CODE.test(code ?? '')) {
    return new AuthError(
      `${answer.call}: SmartLead refused the API key (HTTP ${answer.status}${detail(answer)}); check the account's credentials.apiKeyEnv`,
    );
  }
  if (answer.status === 403) {
    return new AuthError(
      `${answer.call}: SmartLead refused this API key access to ${context.target} (HTTP 403${detail(answer)}); check ` +
        `the account's credentials.apiKeyEnv names a key of the account that owns it`,
    );
  }
  if (answer.status === 404) {
    return new NotFoundError(`${answer.call}: SmartLead has no ${context.target} for this API key (HTTP 404)`);
  }
  const { leadsSent } = context;
  // Some of the leads are refused (SmartLead's 422 "lead validation failed"), or the batch is too large.
  if (leadsSent !== undefined && (answer.status === 400 || answer.status === 422)) {
    return batchTooLarge(answer, leadsSent) ?? batchRefused(answer);
  }
  if (answer.status < 200 || answer.status >= 300) {
    return new UnexpectedResponseError(
      `${answer.call}: SmartLead refused the request (HTTP ${answer.status})${detail(answer)}`,
    );
  }
  if (failure?.success === false || failure?.ok === false) {
    // No cause, no lead named: retrying could repeat it forever, and splitting an upload to find "the" leads would
    // cost up to 2n-1 calls a chunk for what is most likely the campaign's or the account's state. Stop, saying so.
    return new UnexpectedResponseError(
      `${answer.call}: SmartLead answered HTTP ${answer.status} with ${failure.success === false ? 'success' : 'ok'}:false` +
        `${detail(answer)}; the answer names ` +
        `no lead and no cause, so the sync stops rather than resend: check the ${context.target} in SmartLead ` +
        `(paused, archived, the account's lead limit) and run the sync again`,
    );
  }
  return undefined;
}

/**
 * When to retry after a 429: Retry-After (seconds or an HTTP date) wins, then the body's `retry_after`, then a
 * delay the plain-text body names, then the reset of the window the X-RateLimit headers report.
 */
export function retryAfterMs(headers: Headers, body: unknown, nowMs = Date.now()): number {
  const header = headers.get('retry-after')?.trim();
  if (header) {
    const seconds = Number(header);
    if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
    const at = Date.parse(header);
    if (Number.isFinite(at)) return Math.max(0, at - nowMs);
  }
  const failure = failureBody(body);
  const stated = typeof failure?.error === 'object' ? failure.error?.retry_after : undefined;
  if (typeof stated === 'number') return Math.ceil(stated * 1000);
  const inText = typeof body === 'string' ? SECONDS_IN_TEXT.exec(body)?.[1] : undefined;
  if (inText !== undefined) return Math.ceil(Number(inText) * 1000);
  const reset = quotaOf(headers, nowMs)?.resetAtMs;
  if (reset !== undefined && reset > nowMs) return reset - nowMs;
  return UNSTATED_RETRY_AFTER_MS;
}

/**
 * X-RateLimit-Limit / -Remaining / -Reset, when all three are there and numeric. SmartLead documents the reset as a
 * unix timestamp; gateways commonly send the seconds left instead, so a small value is read as that (and a huge one
 * as a unix time in milliseconds).
 */
export function quotaOf(headers: Headers, nowMs = Date.now()): QuotaReading | undefined {
  const limit = Number(headers.get('x-ratelimit-limit') ?? NaN);
  const remaining = Number(headers.get('x-ratelimit-remaining') ?? NaN);
  const reset = Number(headers.get('x-ratelimit-reset') ?? NaN);
  if (![limit, remaining, reset].every((n) => Number.isFinite(n) && n >= 0)) return undefined;
  return { limit, remaining, resetAtMs: resetAtMs(reset, nowMs) };
}

/** When the window resets, never further than the longest wait a vendor may impose (a far one would stall the lane). */
function resetAtMs(reset: number, nowMs: number): number {
  const at =
    reset < SMALLEST_UNIX_RESET ? nowMs + reset * 1000 : reset > LARGEST_UNIX_SECONDS_RESET ? reset : reset * 1000;
  return Math.min(at, nowMs + MAX_VENDOR_WAIT_MS);
}

/**
 * A 400 or 422 is about size when more leads were sent than SmartLead takes, or its reason names a maximum below what
 * was sent (should SmartLead lower it again); SmartLead's pages give both statuses for it.
 */
function batchTooLarge(answer: Answer, leadsSent: number): BatchTooLargeError | undefined {
  const named = Number(MAX_LEADS_IN_TEXT.exec(bodyText(answer.body))?.[1]);
  const namesLowerMax = Number.isInteger(named) && named > 0 && named < leadsSent;
  if (leadsSent <= MAX_LEADS_PER_CALL && !namesLowerMax) return undefined;
  const maxRows = namesLowerMax ? named : MAX_LEADS_PER_CALL;
  return new BatchTooLargeError(
    `${answer.call}: SmartLead refused ${leadsSent} leads in one call (HTTP ${answer.status}${detail(answer)}); send at most ${maxRows}`,
    maxRows,
  );
}

/** Any other refusal of an upload ("lead validation failed"): some rows' fault, to be found by splitting the batch. */
function batchRefused(answer: Answer): BatchRefusedError {
  const reason = `SmartLead refused the lead (HTTP ${answer.status})${detail(answer)}`;
  return new BatchRefusedError(`${answer.call}: ${reason}; splitting the batch to find the refused leads`, reason);
}

/**
 * Cloudflare's own answer: its 1010 code in any body, or a page naming Cloudflare where SmartLead answers JSON. A
 * `server: cloudflare` header alone proves nothing: it may be on every answer, SmartLead's own 403s included.
 */
function isCloudflareBan(answer: Answer): boolean {
  const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
  return CLOUDFLARE_BAN.test(text) || (typeof answer.body === 'string' && /cloudflare/i.test(answer.body));
}

function failureBody(body: unknown): FailureBody | undefined {
  const parsed = FailureBodySchema.safeParse(body);
  return parsed.success ? parsed.data : undefined;
}

/** The vendor's reason as text, from whichever failure shape it used. */
function bodyText(body: unknown): string {
  if (typeof body === 'string') return body;
  const failure = failureBody(body);
  const error = failure?.error;
  const text =
    typeof error === 'string' ? error : [error?.code, error?.message ?? failure?.message].filter(Boolean).join(': ');
  return text || JSON.stringify(body);
}

function detail(answer: Answer): string {
  const text = bodyText(answer.body).replace(/\s+/g, ' ').trim();
  if (!text) return '';
  return `: ${text.length > BODY_EXCERPT_CHARS ? `${text.slice(0, BODY_EXCERPT_CHARS)}…` : text}`;
}
