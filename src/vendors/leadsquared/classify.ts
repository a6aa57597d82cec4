import { z } from 'zod';
import {
  AuthError,
  BatchRefusedError,
  BatchTooLargeError,
  NotFoundError,
  RateLimitedError,
  TransientError,
  UnexpectedResponseError,
  type VendorError,
} from '../errors.js';
import type { RowOutcome } from '../types.js';
import {
  BulkRowResultSchema,
  ErrorEnvelopeSchema,
  LeadCopiesSchema,
  LeadLookupSchema,
  RetrievedActivitiesSchema,
  SuccessEnvelopeSchema,
  type BulkRowResult,
  type ErrorEnvelope,
  type RetrievedActivities,
} from './schemas.js';

/** The parts of an envelope or a bulk row that say what went wrong. */
type Reason = { ExceptionType?: string | null; ExceptionMessage?: string | null; Message?: string | null };

/** What classification reads of an answer. `call` names the account and endpoint in every error text. */
export interface Answer {
  call: string;
  status: number;
  body: unknown;
}

/** A row sent, and the field names a vendor reason may mention (to say which field was at fault). */
export interface SentRow {
  row: number;
  fieldNames: readonly string[];
}

/** One row's fate; `id` is what the vendor created or matched (the lead's ProspectID, the activity's Id). */
export interface WriteResult {
  outcome: RowOutcome;
  id?: string;
}

const RATE_LIMIT_EXCEPTION = 'MXAPIRateLimitExceededException';
const RATE_LIMIT_TEXT = /exceeded the limit of (\d+) in (\d+(?:\.\d+)?) second/i;
/** Used when a rate limit does not say its window: every LeadSquared window is 5 seconds long. */
const UNSTATED_RETRY_AFTER_MS = 5_000;
const AUTH_EXCEPTION = /unauthori[sz]ed|authenticat|access ?key|secret ?key|invalid ?key/i;
/** A bulk refusal for size names the rows (leads, records...) and a maximum. */
const ROW_NOUN = /\b(leads?|rows?|records?|activit(y|ies)|items?|entries)\b/i;
const MAXIMUM = /\b(?:max(?:imum)?|up to|at most|more than|limit(?: of)?|allowed(?: is)?)\b\D{0,30}?(\d+)/i;
const BODY_EXCERPT_CHARS = 300;
/**
 * Exception types LeadSquared sends for a refusal of what was sent, on HTTP 500 as on any status: the row's fault,
 * never better for a retry. LeadSquared publishes no list of its types (its error page shows one by example, and says
 * a 500 "could be many reasons"), so any other type on a 5xx is the vendor's own fault and is retried as transient:
 * - MXMandatoryAttributeMissingException: the error page's example (apidocs.leadsquared.com/error-handling);
 * - MXDuplicateEntryException: a unique field another lead holds, HTTP 500 (dpaluy/leadsquared specs; chatwoot's
 *   LeadSquared client retries it by phone, chatwoot/chatwoot#13910);
 * - MXInvalidInputException: a value or parameter refused (chatwoot/chatwoot's activity client spec).
 */
const ROW_REFUSAL_EXCEPTIONS: ReadonlySet<string> = new Set([
  'MXMandatoryAttributeMissingException',
  'MXDuplicateEntryException',
  'MXInvalidInputException',
]);
/** Keys of a bulk row answer whose text may say why the row failed, whatever shape the answer has. */
const REASON_KEY = /message|error|reason|description/i;

/**
 * Failures of the whole call, whatever the endpoint: the rate limit (recognised by its envelope on any status first:
 * LeadSquared documents HTTP 429 but has been seen sending it with 200), refused keys, and an unknown endpoint. Any
 * other envelope is the call's own answer and is read by the endpoint's classifier.
 */
export function callFailure(answer: Answer): VendorError | undefined {
  const envelope = errorEnvelope(answer.body);
  if (envelope && isRateLimit(envelope)) return rateLimited(answer, envelopeText(envelope));
  if (answer.status === 429) return rateLimited(answer, bodyText(answer.body));
  if (
    answer.status === 401 ||
    AUTH_EXCEPTION.test(envelope?.ExceptionType ?? '') ||
    (answer.status === 403 && envelope)
  ) {
    return new AuthError(
      `${answer.call}: LeadSquared refused the access key and secret key (HTTP ${answer.status}${detail(answer)}); check the account's credentials`,
    );
  }
  if (answer.status === 403) {
    // Not LeadSquared's envelope: a proxy or CDN in front of it (Cloudflare answers 403 with an HTML page or
    // "error code: 1010"). The keys were never looked at, so saying "check the keys" would send a person astray.
    return new UnexpectedResponseError(
      `${answer.call}: HTTP 403 from something in front of LeadSquared, not LeadSquared itself${detail(answer)}; check the account's baseUrl and any proxy between this worker and the vendor`,
    );
  }
  if (answer.status === 404) {
    return new NotFoundError(
      `${answer.call}: HTTP 404, no such endpoint${detail(answer)}; check the account's baseUrl (https://{host}/v2/)`,
    );
  }
  return undefined;
}

/**
 * Lead.CreateOrUpdate and ProspectActivity.svc/Create: one row, so a refusal in the MX envelope that is not the call's
 * is the row's, with the vendor's message, on any status (LeadSquared answers a duplicate phone with HTTP 500). A 5xx
 * whose envelope is not a known refusal, or that has none, is transient: retried, and its message kept.
 */
export function singleWriteResult(answer: Answer, sent: SentRow): WriteResult {
  const failure = callFailure(answer);
  if (failure) throw failure;
  const success = SuccessEnvelopeSchema.safeParse(answer.body);
  if (success.success && isOk(answer.status)) return { outcome: accepted(sent), id: success.data.Message.Id };
  const refusal = refusalOf(answer);
  if (refusal) return { outcome: rejected(sent, envelopeText(refusal)) };
  if (answer.status >= 500) throw transient(answer);
  throw unexpected(answer);
}

/** Lead/Bulk/CreateOrUpdate: one result per row, matched back to the rows sent by RowNumber. */
export function bulkLeadResults(answer: Answer, sent: readonly SentRow[]): WriteResult[] {
  const refused = bulkCallRefusal(answer, sent);
  if (refused) return refused;
  const parsed = z.array(z.unknown()).safeParse(answer.body);
  if (!parsed.success) throw unexpected(answer, 'not a list of row results');
  return matchRows(answer, parsed.data, sent, (result) => result.LeadId);
}

/** ProspectActivity.svc/Bulk/CustomActivity/Add/*: as for leads, with the activity's Id, under `Response`. */
export function bulkActivityResults(answer: Answer, sent: readonly SentRow[]): WriteResult[] {
  const refused = bulkCallRefusal(answer, sent);
  if (refused) return refused;
  const parsed = z.object({ Response: z.array(z.unknown()) }).safeParse(answer.body);
  if (!parsed.success) throw unexpected(answer, 'no Response list of row results');
  return matchRows(answer, parsed.data.Response, sent, (result) => result.ProspectActivityId);
}

/**
 * Leads.GetByEmailaddress: the lead's ProspectID, or undefined when no lead has the address. A read changes nothing,
 * so any refusal that is not the call's (an envelope, a bare 5xx) is transient: the caller retries it in place.
 */
export function prospectIdOf(answer: Answer): string | undefined {
  throwIfReadFailed(answer);
  const parsed = LeadLookupSchema.safeParse(answer.body);
  if (!parsed.success) throw unexpected(answer);
  return parsed.data[0]?.ProspectID;
}

/** Leads.GetByEmailaddress read whole: the lead's fields as text, or undefined when no lead has the address. */
export function leadCopyOf(answer: Answer): Record<string, string> | undefined {
  throwIfReadFailed(answer);
  const parsed = LeadCopiesSchema.safeParse(answer.body);
  if (!parsed.success) throw unexpected(answer);
  return parsed.data[0];
}

/** ProspectActivity.svc/Retrieve: a page of the lead's activities, in the documented shape. */
export function retrievedActivities(answer: Answer): RetrievedActivities {
  throwIfReadFailed(answer);
  const parsed = RetrievedActivitiesSchema.safeParse(answer.body);
  if (!parsed.success) throw unexpected(answer);
  return parsed.data;
}

/** "API calls exceeded the limit of 25 in 5 second(s)": the window, and a retry once it has surely slid by. */
export function parseRateLimit(text: string): { window?: { limit: number; seconds: number }; retryAfterMs: number } {
  const match = RATE_LIMIT_TEXT.exec(text);
  if (!match) return { retryAfterMs: UNSTATED_RETRY_AFTER_MS };
  const window = { limit: Number(match[1]), seconds: Number(match[2]) };
  return { window, retryAfterMs: Math.ceil(window.seconds * 1000) };
}

/** The first of `names` the text mentions as a word: the field a vendor reason is about. */
export function fieldNamedIn(text: string, names: readonly string[]): string | undefined {
  let best: { name: string; at: number } | undefined;
  for (const name of names) {
    const at = text.search(new RegExp(`\\b${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`));
    if (at >= 0 && (!best || at < best.at || (at === best.at && name.length > best.name.length))) best = { name, at };
  }
  return best?.name;
}

/** What ends a bulk call before its row results are read: the call's failure, a size or batch refusal, a bare 5xx. */
function bulkCallRefusal(answer: Answer, sent: readonly SentRow[]): WriteResult[] | undefined {
  const failure = callFailure(answer) ?? batchTooLarge(answer);
  if (failure) throw failure;
  const refusal = refusalOf(answer);
  if (refusal) {
    const [only, ...more] = sent;
    if (only && more.length === 0) return [{ outcome: rejected(only, envelopeText(refusal)) }];
    // Its envelope names no size and no rate limit: some rows' fault, found by splitting; one row's refusal is its own.
    throw new BatchRefusedError(
      `${answer.call}: LeadSquared refused the batch of ${sent.length} rows (HTTP ${answer.status})${detail(answer)}`,
      envelopeText(refusal),
    );
  }
  if (answer.status >= 500) throw transient(answer);
  if (!isOk(answer.status)) throw unexpected(answer);
  return undefined;
}

/**
 * The envelope of a refusal of what was sent. Below 500 any envelope is one; on a 5xx only a known refusal type is,
 * since LeadSquared wraps its own failures in the same envelope, and a row refused for a vendor fault would be lost.
 */
function refusalOf(answer: Answer): ErrorEnvelope | undefined {
  const envelope = errorEnvelope(answer.body);
  if (!envelope) return undefined;
  if (answer.status < 500 || ROW_REFUSAL_EXCEPTIONS.has(envelope.ExceptionType ?? '')) return envelope;
  return undefined;
}

function throwIfReadFailed(answer: Answer): void {
  const failure = callFailure(answer);
  if (failure) throw failure;
  if (errorEnvelope(answer.body) || answer.status >= 500) throw transient(answer);
  if (!isOk(answer.status)) throw unexpected(answer);
}

/**
 * Over the vendor's row maximum. Neither the status nor the text is documented: a 413, or an envelope (on any status)
 * whose reason names rows and a maximum. The caller adopts the maximum named, or halves the batch.
 */
function batchTooLarge(answer: Answer): BatchTooLargeError | undefined {
  const envelope = errorEnvelope(answer.body);
  const text = envelope ? envelopeText(envelope) : '';
  const isSizeRefusal = answer.status === 413 || (envelope !== undefined && ROW_NOUN.test(text) && MAXIMUM.test(text));
  if (!isSizeRefusal) return undefined;
  const maxRows = MAXIMUM.exec(text)?.[1];
  return new BatchTooLargeError(
    `${answer.call}: the batch is over LeadSquared's row maximum (HTTP ${answer.status}${detail(answer)})`,
    maxRows === undefined ? undefined : Number(maxRows),
  );
}

/**
 * Every row sent gets an outcome. The per-row failure shape is not documented, so a row answer that cannot be read
 * (no result for its RowNumber, an element of unknown shape, no id) is that row's refusal: with the vendor's message
 * wherever the answer carries one, and the raw answer; never a failed call for the rows that did land. A rate-limited row fails the whole
 * call, since rejecting it would drop a row the vendor never looked at.
 */
function matchRows(
  answer: Answer,
  elements: readonly unknown[],
  sent: readonly SentRow[],
  idOf: (result: BulkRowResult) => string | null | undefined,
): WriteResult[] {
  const byRowNumber = new Map<number, { result?: BulkRowResult; raw: unknown }>();
  elements.forEach((element, index) => {
    const parsed = BulkRowResultSchema.safeParse(element);
    // An element without a readable RowNumber stands for the row at its place in the list.
    const rowNumber = (parsed.success ? parsed.data.RowNumber : undefined) ?? index + 1;
    if (!byRowNumber.has(rowNumber)) {
      byRowNumber.set(rowNumber, { ...(parsed.success ? { result: parsed.data } : {}), raw: element });
    }
  });
  return sent.map((row, index) => {
    const answered = byRowNumber.get(index + 1);
    if (!answered) return { outcome: rejected(row, `LeadSquared gave no result for this row${detail(answer)}`) };
    const { result, raw } = answered;
    const failure = result && rowFailureText(result);
    if (failure !== undefined) {
      if (result && isRateLimit(result)) throw rateLimited(answer, failure);
      return { outcome: rejected(row, failure) };
    }
    const id = result && idOf(result);
    if (id) return { outcome: accepted(row), id };
    // A shape the client does not know, or no id: the vendor's own words first, wherever the row answer carries them.
    const said = reasonsIn(raw);
    if (said.length > 0) {
      return { outcome: rejected(row, `${said.join('; ')} (LeadSquared's answer for this row: ${excerpt(raw)})`) };
    }
    const unread = result ? 'has neither an id nor a reason' : 'could not be read';
    return { outcome: rejected(row, `LeadSquared's answer for this row ${unread}: ${excerpt(raw)}`) };
  });
}

/** The texts under keys that say why (ErrorMessage, Errors[].Description...), at any depth, in order. */
function reasonsIn(value: unknown, depth = 0): string[] {
  if (depth > 3 || value === null || typeof value !== 'object') return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, inner]) => {
    const listed: unknown[] = Array.isArray(inner) ? inner : [inner];
    const texts = REASON_KEY.test(key)
      ? listed.filter((v): v is string => typeof v === 'string' && v.trim() !== '')
      : [];
    return [...texts.map((text) => text.trim()), ...listed.flatMap((v) => reasonsIn(v, depth + 1))];
  });
}

/** A row failed when it carries an exception, or a message and no id. */
function rowFailureText(result: BulkRowResult): string | undefined {
  const hasId = Boolean(result.LeadId ?? result.ProspectActivityId);
  if (!result.ExceptionType && !result.ExceptionMessage && (hasId || !result.Message)) return undefined;
  return envelopeText(result);
}

function transient(answer: Answer): TransientError {
  return new TransientError(`${answer.call}: HTTP ${answer.status}${detail(answer)}`);
}

function rateLimited(answer: Answer, text: string): RateLimitedError {
  const { window, retryAfterMs } = parseRateLimit(text);
  return new RateLimitedError(
    `${answer.call}: rate limited (HTTP ${answer.status}): ${text || 'no reason given'}`,
    retryAfterMs,
    window,
    undefined,
    false,
  );
}

function isRateLimit(e: Reason): boolean {
  return (
    e.ExceptionType === RATE_LIMIT_EXCEPTION || RATE_LIMIT_TEXT.test(`${e.ExceptionMessage ?? ''} ${e.Message ?? ''}`)
  );
}

function accepted(sent: SentRow): RowOutcome {
  return { row: sent.row, status: 'accepted' };
}

function rejected(sent: SentRow, reason: string): RowOutcome {
  const field = fieldNamedIn(reason, sent.fieldNames);
  return field ? { row: sent.row, status: 'rejected', field, reason } : { row: sent.row, status: 'rejected', reason };
}

function unexpected(answer: Answer, what?: string): UnexpectedResponseError {
  return new UnexpectedResponseError(
    `${answer.call}: unexpected answer (HTTP ${answer.status})${what ? `: ${what}` : ''}${detail(answer)}`,
  );
}

function errorEnvelope(body: unknown): ErrorEnvelope | undefined {
  const parsed = ErrorEnvelopeSchema.safeParse(body);
  return parsed.success ? parsed.data : undefined;
}

function envelopeText(e: Reason): string {
  const message = e.ExceptionMessage || e.Message;
  return e.ExceptionType && message ? `${e.ExceptionType}: ${message}` : e.ExceptionType || message || '';
}

/** The vendor's reason as text, from an envelope when there is one. */
function bodyText(body: unknown): string {
  const envelope = errorEnvelope(body);
  if (envelope) return envelopeText(envelope);
  return typeof body === 'string' ? body : JSON.stringify(body);
}

function detail(answer: Answer): string {
  const text = excerpt(bodyText(answer.body));
  return text ? `: ${text}` : '';
}

function excerpt(value: unknown): string {
  const text = (typeof value === 'string' ? value : (JSON.stringify(value) ?? '')).replace(/\s+/g, ' ').trim();
  return text.length > BODY_EXCERPT_CHARS ? `${text.slice(0, BODY_EXCERPT_CHARS)}…` : text;
}

function isOk(status: number): boolean {
  return status >= 200 && status < 300;
}
