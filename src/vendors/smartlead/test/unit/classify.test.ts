import { describe, expect, it } from 'vitest';
import {
  AuthError,
  BatchRefusedError,
  BatchTooLargeError,
  MAX_VENDOR_WAIT_MS,
  NotFoundError,
  RateLimitedError,
  UnexpectedResponseError,
} from '../../../errors.js';
import { callFailure, quotaOf, retryAfterMs, type Answer } from '../../classify.js';

const NOW = Date.UTC(2025, 0, 1, 12, 0, 0);

function answer(status: number, body: unknown, headers: Record<string, string> = {}): Answer {
  return { call: "smartlead account 'a': POST /campaigns/42/leads", status, headers: new Headers(headers), body };
}

const campaign = { target: 'campaign 42' };

describe('SmartLead call classification', () => {
  it('takes a 2xx answer without a failure flag as a success', () => {
    expect(callFailure(answer(200, { ok: true, upload_count: 1 }), campaign)).toBeUndefined();
    expect(callFailure(answer(200, [{ id: 1 }]), campaign)).toBeUndefined();
  });

  it('makes a JSON 429 a RateLimitedError, the Retry-After header winning over retry_after', () => {
    const body = { error: { code: 'RATE_LIMIT_EXCEEDED', message: 'Too many requests.', retry_after: 30 } };

    const withHeader = callFailure(answer(429, body, { 'retry-after': '7' }), campaign);
    const withoutHeader = callFailure(answer(429, body), campaign);

    expect(withHeader).toBeInstanceOf(RateLimitedError);
    expect((withHeader as RateLimitedError).retryAfterMs).toBe(7_000);
    expect((withoutHeader as RateLimitedError).retryAfterMs).toBe(30_000);
    expect(withoutHeader?.message).toContain('RATE_LIMIT_EXCEEDED: Too many requests.');
  });

  it('waits at most an hour however long a 429 says, and says what it was asked', () => {
    const body = { error: { code: 'RATE_LIMIT_EXCEEDED', message: 'Too many requests.' } };

    const failure = callFailure(answer(429, body, { 'retry-after': '99999999999' }), campaign, NOW);

    expect((failure as RateLimitedError).retryAfterMs).toBe(MAX_VENDOR_WAIT_MS);
    expect((failure as RateLimitedError).statedRetryAfterMs).toBe(99_999_999_999_000);
    expect(failure?.message).toContain('the vendor asked for a wait of 99999999999000 ms, leadsync waits 3600000 ms');
  });

  it('makes a plain-text 429 of the analytics endpoints a RateLimitedError too', () => {
    const failure = callFailure(answer(429, 'Rate limit exceeded, retry in 45 seconds'), campaign);

    expect(failure).toBeInstanceOf(RateLimitedError);
    expect((failure as RateLimitedError).retryAfterMs).toBe(45_000);
  });

  it.each([
    [401, { message: 'Invalid API Key' }],
    [401, { error: { code: 'UNAUTHORIZED', message: 'API key is missing or invalid' } }],
    [403, { error: 'Forbidden' }],
    [200, { success: false, error: { code: 'UNAUTHORIZED', message: 'bad key' } }],
  ])('makes HTTP %i %j an AuthError that says what to fix', (status, body) => {
    const failure = callFailure(answer(status, body), campaign);

    expect(failure).toBeInstanceOf(AuthError);
    expect(failure?.message).toContain('credentials.apiKeyEnv');
  });

  it('makes a 404 a NotFoundError naming what was asked for', () => {
    const failure = callFailure(answer(404, { error: 'Campaign not found' }), campaign);

    expect(failure).toBeInstanceOf(NotFoundError);
    expect(failure?.message).toContain('no campaign 42');
  });

  it('makes a 422 for more than 400 leads a BatchTooLargeError of 400 rows', () => {
    const failure = callFailure(answer(422, { error: 'Validation failed' }), { ...campaign, leadsSent: 401 });

    expect(failure).toBeInstanceOf(BatchTooLargeError);
    expect((failure as BatchTooLargeError).maxRows).toBe(400);
  });

  it('takes a lower maximum from the reason, should SmartLead lower it again', () => {
    const body = { error: { code: 'VALIDATION_ERROR', message: 'lead_list may hold at most 350 leads' } };

    const failure = callFailure(answer(422, body), { ...campaign, leadsSent: 400 });

    expect((failure as BatchTooLargeError).maxRows).toBe(350);
  });

  it("splits a batch refused for some of its leads, keeping the vendor's words for the lone lead", () => {
    const body = { error: 'email must be at most 254 characters' };

    const failure = callFailure(answer(422, body), { ...campaign, leadsSent: 10 });

    expect(failure).toBeInstanceOf(BatchRefusedError);
    expect((failure as BatchRefusedError).maxRows).toBeUndefined();
    expect((failure as BatchRefusedError).reason).toBe(
      'SmartLead refused the lead (HTTP 422): email must be at most 254 characters',
    );
  });

  it('reads a 400 naming the maximum size as over-size, as the error guide has it', () => {
    const body = { error: { code: 'VALIDATION_ERROR', message: 'Lead list exceeds maximum size' } };

    const failure = callFailure(answer(400, body), { ...campaign, leadsSent: 401 });

    expect(failure).toBeInstanceOf(BatchTooLargeError);
    expect(failure).not.toBeInstanceOf(BatchRefusedError);
  });

  it.each([[{ success: false, message: 'Something went wrong' }], [{ ok: false, error: 'Could not import leads' }]])(
    'fails any call answered HTTP 200 with %j, never retried, with the message and what to check',
    (body) => {
      const upload = callFailure(answer(200, body), { ...campaign, leadsSent: 2 });
      const lookup = callFailure(answer(200, body), campaign);

      for (const failure of [upload, lookup]) {
        expect(failure).toBeInstanceOf(UnexpectedResponseError);
        expect(failure).not.toBeInstanceOf(BatchRefusedError);
        expect(failure?.message).toMatch(/(Something went wrong|Could not import leads).*check the campaign 42/);
      }
    },
  );

  it.each([
    ['plain text', 'error code: 1010'],
    ['HTML', '<html><title>Access denied | used Cloudflare to restrict access</title></html>'],
    ['JSON', { error_code: 1010, error_name: 'browser_signature_banned', cloudflare_error: true }],
  ])('tells a Cloudflare 1010 in %s apart from a bad key, saying what to do', (_form, body) => {
    const failure = callFailure(answer(403, body), campaign);

    expect(failure).toBeInstanceOf(UnexpectedResponseError);
    expect(failure?.message).toMatch(/not a bad API key.*User-Agent/);
  });

  it('makes a 200 carrying the rate-limit code a RateLimitedError', () => {
    const body = { success: false, error: { code: 'RATE_LIMIT_EXCEEDED', message: 'slow down', retry_after: 2 } };

    expect(callFailure(answer(200, body), campaign)).toBeInstanceOf(RateLimitedError);
  });
});

describe('retryAfterMs', () => {
  it('reads Retry-After as seconds, fractions included, or as an HTTP date', () => {
    expect(retryAfterMs(new Headers({ 'retry-after': '1.5' }), '', NOW)).toBe(1_500);
    const date = new Date(NOW + 20_000).toUTCString();
    expect(retryAfterMs(new Headers({ 'retry-after': date }), '', NOW)).toBe(20_000);
  });

  it('falls back to the reported window reset, then to 60 s', () => {
    const headers = new Headers({
      'x-ratelimit-limit': '60',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': String((NOW + 12_000) / 1000),
    });

    expect(retryAfterMs(headers, { error: 'nope' }, NOW)).toBe(12_000);
    expect(retryAfterMs(new Headers(), { error: 'nope' }, NOW)).toBe(60_000);
  });
});

describe('quotaOf', () => {
  it('reads the three X-RateLimit headers, reset in unix seconds', () => {
    const headers = new Headers({
      'X-RateLimit-Limit': '60',
      'X-RateLimit-Remaining': '41',
      'X-RateLimit-Reset': '1735732800',
    });

    expect(quotaOf(headers)).toEqual({ limit: 60, remaining: 41, resetAtMs: 1_735_732_800_000 });
  });

  it('reads a small reset as the seconds left, and a huge one as a unix time in milliseconds', () => {
    const quota = (reset: string) =>
      quotaOf(
        new Headers({ 'x-ratelimit-limit': '60', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset }),
        NOW,
      );

    expect(quota('42')?.resetAtMs).toBe(NOW + 42_000);
    expect(quota(String(NOW + 5_000))?.resetAtMs).toBe(NOW + 5_000);
  });

  it('reads a reset further than an hour away as an hour away', () => {
    const reset = (value: string) =>
      quotaOf(new Headers({ 'x-ratelimit-limit': '60', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': value }), NOW)
        ?.resetAtMs;

    expect(reset(String(NOW / 1000 + 86_400))).toBe(NOW + MAX_VENDOR_WAIT_MS);
    expect(reset('1e15')).toBe(NOW + MAX_VENDOR_WAIT_MS);
  });

  it('reads nothing when a header is missing or not a number', () => {
    expect(quotaOf(new Headers({ 'x-ratelimit-limit': '60', 'x-ratelimit-remaining': '41' }))).toBeUndefined();
    expect(
      quotaOf(new Headers({ 'x-ratelimit-limit': '60', 'x-ratelimit-remaining': 'x', 'x-ratelimit-reset': '1' })),
    ).toBeUndefined();
  });
});
