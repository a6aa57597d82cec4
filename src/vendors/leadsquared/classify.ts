import {
  AuthError,
  BatchTooLargeError,
  NotFoundError,
  RateLimitedError,
  TransientError,
  UnexpectedResponseError,
  type VendorError,
} from '../errors.js';
import type { RowOutcome } from '../types.js';
import {
  BulkActivityAnswerSchema,
  BulkLeadAnswerSchema,
  ErrorEnvelopeSchema,
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
 * Failures of the whole call, whatever the endpoint. The rate limit is recognised by its body first: LeadSquared
 * documents HTTP 429 but has been seen sending it with 200.
 */
export function callFailure(answer: Answer): VendorError | undefined {
  const envelope = errorEnvelope(answer.body);
  if (envelope && isRateLimit(envelope)) return rateLimited(answer, envelopeText(envelope));
  if (answer.status === 429) return rateLimited(answer, bodyText(answer.body));
  if (answer.status === 401 || answer.status === 403 || AUTH_EXCEPTION.test(envelope?.ExceptionType ?? '')) {
    return new AuthError(
      `${answer.call}: LeadSquared refused the access key and secret key (HTTP ${answer.status}${detail(answer)}); check the account's credentials`,
    );
  }
  if (answer.status >= 500) return new TransientError(`${answer.call}: HTTP ${answer.status}${detail(answer)}`);
  if (answer.status === 404) {
    return new NotFoundError(
      `${answer.call}: HTTP 404, no such endpoint${detail(answer)}; check the account's baseUrl (https://{host}/v2/)`,
    );
  }
  return undefined;
}

/** Lead.CreateOrUpdate and ProspectActivity.svc/Create: one row, so a refusal that is not the call's is the row's. */
export function singleWriteResult(answer: Answer, sent: SentRow): WriteResult {
  const failure = callFailure(answer);
  if (failure) throw failure;
  const success = SuccessEnvelopeSchema.safeParse(answer.body);
  if (success.success && isOk(answer.status)) return { outcome: accepted(sent), id: success.data.Message.Id };
  const envelope = errorEnvelope(answer.body);
  if (envelope) return { outcome: rejected(sent, envelopeText(envelope)) };
  throw unexpected(answer);
}

/** Lead/Bulk/CreateOrUpdate: one result per row, matched back to the rows sent by RowNumber. */
export function bulkLeadResults(answer: Answer, sent: readonly SentRow[]): WriteResult[] {
  throwIfCallFailed(answer);
  const parsed = BulkLeadAnswerSchema.safeParse(answer.body);
  if (!parsed.success || !isOk(answer.status)) throw unexpected(answer);
  return matchRows(answer, parsed.data, sent, (result) => result.LeadId);
}

/** ProspectActivity.svc/Bulk/CustomActivity/Add/*: as for leads, with the activity's Id. */
export function bulkActivityResults(answer: Answer, sent: readonly SentRow[]): WriteResult[] {
  throwIfCallFailed(answer);
  const parsed = BulkActivityAnswerSchema.safeParse(answer.body);
  if (!parsed.success || !isOk(answer.status)) throw unexpected(answer);
  return matchRows(answer, parsed.data.Response, sent, (result) => result.ProspectActivityId);
}

/** Leads.GetByEmailaddress: the lead's ProspectID, or undefined when no lead has the address. */
export function prospectIdOf(answer: Answer): string | undefined {
  const failure = callFailure(answer);
  if (failure) throw failure;
  const parsed = LeadLookupSchema.safeParse(answer.body);
  if (!parsed.success || !isOk(answer.status)) throw unexpected(answer);
  return parsed.data[0]?.ProspectID;
}

/** ProspectActivity.svc/Retrieve: a page of the lead's activities. */
export function retrievedActivities(answer: Answer): RetrievedActivities {
  const failure = callFailure(answer);
  if (failure) throw failure;
  const parsed = RetrievedActivitiesSchema.safeParse(answer.body);
  if (!parsed.success || !isOk(answer.status)) throw unexpected(answer);
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

function throwIfCallFailed(answer: Answer): void {
  const failure = callFailure(answer) ?? batchTooLarge(answer);
  if (failure) throw failure;
}

/** Over the vendor's row maximum: 413, or a 4xx whose reason names a maximum of rows. The caller splits the batch. */
function batchTooLarge(answer: Answer): BatchTooLargeError | undefined {
  const text = bodyText(answer.body);
  const isSizeRefusal =
    answer.status === 413 || (answer.status >= 400 && answer.status < 500 && ROW_NOUN.test(text) && MAXIMUM.test(text));
  if (!isSizeRefusal) return undefined;
  const maxRows = MAXIMUM.exec(text)?.[1];
  return new BatchTooLargeError(
    `${answer.call}: the batch is over LeadSquared's row maximum (HTTP ${answer.status}${detail(answer)})`,
    maxRows === undefined ? undefined : Number(maxRows),
  );
}

/**
 * Every row sent must come back exactly once. A row the vendor skipped or invented is not guessed at: the call
 * fails as unexpected and is retried whole, which upserts make safe. A rate-limited row fails the whole call for
 * the same reason, since rejecting it would drop a row the vendor never looked at.
 */
function matchRows(
  answer: Answer,
  results: readonly BulkRowResult[],
  sent: readonly SentRow[],
  idOf: (result: BulkRowResult) => string | null | undefined,
): WriteResult[] {
  const byRowNumber = new Map<number, BulkRowResult>();
  for (const result of results) {
    if (result.RowNumber > sent.length || byRowNumber.has(result.RowNumber)) {
      throw unexpected(answer, `RowNumber ${result.RowNumber} is repeated or beyond the ${sent.length} rows sent`);
    }
    byRowNumber.set(result.RowNumber, result);
  }
  return sent.map((row, index) => {
    const result = byRowNumber.get(index + 1);
    if (!result) throw unexpected(answer, `no result for RowNumber ${index + 1} of the ${sent.length} rows sent`);
    const failure = rowFailureText(result);
    if (failure !== undefined) {
      if (isRateLimit(result)) throw rateLimited(answer, failure);
      return { outcome: rejected(row, failure) };
    }
    const id = idOf(result);
    if (!id) throw unexpected(answer, `RowNumber ${result.RowNumber} has neither an id nor a reason`);
    return { outcome: accepted(row), id };
  });
}

/** A row failed when it carries an exception, or a message and no id. */
function rowFailureText(result: BulkRowResult): string | undefined {
  const hasId = Boolean(result.LeadId ?? result.ProspectActivityId);
  if (!result.ExceptionType && !result.ExceptionMessage && (hasId || !result.Message)) return undefined;
  return envelopeText(result);
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
  const text = bodyText(answer.body).replace(/\s+/g, ' ').trim();
  if (!text) return '';
  return `: ${text.length > BODY_EXCERPT_CHARS ? `${text.slice(0, BODY_EXCERPT_CHARS)}…` : text}`;
}

function isOk(status: number): boolean {
  return status >= 200 && status < 300;
}
