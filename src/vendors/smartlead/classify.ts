import {
  AuthError,
  BatchTooLargeError,
  NotFoundError,
  RateLimitedError,
  TransientError,
  UnexpectedResponseError,
  type VendorError,
} from '../errors.js';
import type { QuotaReading } from '../types.js';
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
  /** Leads sent, for calls that carry a lead_list: a 422 then may be a refusal of the batch's size. */
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

/**
 * Failures of the whole call, whatever the endpoint: undefined when the answer is a success to parse. HTTP 200
 * with `success:false` or `ok:false` is a failure too; SmartLead documents that it happens.
 */
export function callFailure(answer: Answer, context: CallContext): VendorError | undefined {
  const failure = failureBody(answer.body);
  const code = typeof failure?.error === 'object' ? failure.error?.code : undefined;
  if (answer.status === 429 || code === RATE_LIMIT_CODE) {
    return new RateLimitedError(
      `${answer.call}: rate limited by SmartLead (HTTP ${answer.status})${detail(answer)}`,
      retryAfterMs(answer.headers, answer.body),
      undefined,
      quotaOf(answer.headers)?.limit,
    );
  }
  if (answer.status === 401 || answer.status === 403 || AUTH_CODE.test(code ?? '')) {
    return new AuthError(
      `${answer.call}: SmartLead refused the API key (HTTP ${answer.status}${detail(answer)}); check the account's credentials.apiKeyEnv`,
    );
  }
  if (answer.status === 404) {
    return new NotFoundError(`${answer.call}: SmartLead has no ${context.target} for this API key (HTTP 404)`);
  }
  if (answer.status === 422 && context.leadsSent !== undefined) {
    const tooLarge = batchTooLarge(answer, context.leadsSent);
    if (tooLarge) return tooLarge;
  }
  if (answer.status < 200 || answer.status >= 300) {
    return new UnexpectedResponseError(
      `${answer.call}: SmartLead refused the request (HTTP ${answer.status})${detail(answer)}`,
    );
  }
  if (failure?.success === false || failure?.ok === false) {
    // A failure without a cause to act on: retrying is safe (uploads are idempotent by email) and bounded by the policy.
    return new TransientError(
      `${answer.call}: SmartLead answered HTTP ${answer.status} with a failure${detail(answer)}`,
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
  const reset = quotaOf(headers)?.resetAtMs;
  if (reset !== undefined && reset > nowMs) return reset - nowMs;
  return UNSTATED_RETRY_AFTER_MS;
}

/** X-RateLimit-Limit / -Remaining / -Reset (unix seconds), when all three are there and numeric. */
export function quotaOf(headers: Headers): QuotaReading | undefined {
  const limit = Number(headers.get('x-ratelimit-limit') ?? NaN);
  const remaining = Number(headers.get('x-ratelimit-remaining') ?? NaN);
  const reset = Number(headers.get('x-ratelimit-reset') ?? NaN);
  if (![limit, remaining, reset].every((n) => Number.isFinite(n) && n >= 0)) return undefined;
  return { limit, remaining, resetAtMs: reset * 1000 };
}

/**
 * A 422 is about size when more leads were sent than SmartLead takes, or its reason names a maximum below what was
 * sent (should SmartLead lower it again). Any other 422 is a validation failure that splitting would not cure.
 */
function batchTooLarge(answer: Answer, leadsSent: number): BatchTooLargeError | undefined {
  const named = Number(MAX_LEADS_IN_TEXT.exec(bodyText(answer.body))?.[1]);
  const namesLowerMax = Number.isInteger(named) && named > 0 && named < leadsSent;
  if (leadsSent <= MAX_LEADS_PER_CALL && !namesLowerMax) return undefined;
  const maxRows = namesLowerMax ? named : MAX_LEADS_PER_CALL;
  return new BatchTooLargeError(
    `${answer.call}: SmartLead refused ${leadsSent} leads in one call (HTTP 422${detail(answer)}); send at most ${maxRows}`,
    maxRows,
  );
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
