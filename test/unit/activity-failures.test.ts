import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { toActivityFailure } from '../../activities/failures.js';
import { ConfigError } from '../../src/core/errors.js';
import { FailureType } from '../../src/core/failures.js';
import { Redactor } from '../../src/observability/redactor.js';
import {
  AuthError,
  BatchTooLargeError,
  NotFoundError,
  RateLimitedError,
  TransientError,
  UnexpectedResponseError,
} from '../../src/vendors/errors.js';

const SECRET = 'sk-live-0123456789';
const redactor = new Redactor([SECRET]);

function failureOf(err: unknown): ApplicationFailure {
  const failure = toActivityFailure(err, redactor);
  if (!(failure instanceof ApplicationFailure)) throw new Error('not an ApplicationFailure');
  return failure;
}

describe('what a vendor error becomes for Temporal', () => {
  it('retries a rate limit at the time the vendor gave', () => {
    const failure = failureOf(new RateLimitedError('429 Too Many Requests', 2_000));

    expect(failure).toMatchObject({ type: FailureType.rateLimited, nonRetryable: false, nextRetryDelay: 2_000 });
  });

  it('retries a rate limit the vendor gave no time for after a millisecond at least, never at once', () => {
    expect(failureOf(new RateLimitedError('429', 0)).nextRetryDelay).toBe(1);
  });

  it('retries a transient fault with the policy backoff', () => {
    const failure = failureOf(new TransientError('502 Bad Gateway'));

    expect(failure).toMatchObject({ type: FailureType.transient, nonRetryable: false });
    expect(failure.nextRetryDelay).toBeUndefined();
  });

  it.each([
    ['refused keys', new AuthError('401 Unauthorized'), FailureType.auth],
    ['a missing target', new NotFoundError('campaign 42 not found'), FailureType.notFound],
    ['an answer the vendor never gives', new UnexpectedResponseError('no lead_list'), FailureType.unexpectedResponse],
    ['a single row still too large', new BatchTooLargeError('too large'), FailureType.unexpectedResponse],
    ['a config error', new ConfigError('no such account'), FailureType.config],
  ])('fails the sync at once for %s', (_what, err, type) => {
    expect(failureOf(err)).toMatchObject({ type, nonRetryable: true, message: err.message });
  });

  it('retries anything else, named by its error', () => {
    const failure = failureOf(new RangeError('offset out of range'));

    expect(failure).toMatchObject({ type: 'RangeError', nonRetryable: false, message: 'offset out of range' });
    expect(failureOf('a thrown string')).toMatchObject({ type: 'Error', message: 'a thrown string' });
  });
});

describe('redaction of what leaves an activity', () => {
  it('removes a secret from a vendor error message', () => {
    const failure = failureOf(new AuthError(`key ${SECRET} was refused`));

    expect(failure.message).toBe('key [REDACTED] was refused');
  });

  it('rebuilds an application failure with its message, type, details and cause redacted, and keeps the rest', () => {
    const thrown = ApplicationFailure.create({
      message: `connect to postgres://app:${SECRET}@db failed`,
      type: `Driver${SECRET}`,
      nonRetryable: true,
      details: [{ url: `postgres://app:${SECRET}@db`, nested: [SECRET] }],
      nextRetryDelay: 5_000,
      cause: new Error(`password ${SECRET}`),
    });

    const failure = failureOf(thrown);

    expect(failure).toMatchObject({
      message: 'connect to postgres://app:[REDACTED]@db failed',
      type: 'Driver[REDACTED]',
      nonRetryable: true,
      nextRetryDelay: 5_000,
    });
    expect(failure.details).toEqual([{ url: 'postgres://app:[REDACTED]@db', nested: ['[REDACTED]'] }]);
    expect(failure.cause?.message).toBe('password [REDACTED]');
    expect(JSON.stringify(failure)).not.toContain(SECRET);
  });

  it('drops details whose JSON the redaction breaks, rather than leak them', () => {
    // The secret spans a string's closing quote and the array's end: once replaced, the details are no longer JSON.
    const spanning = new Redactor(['bc"]']);
    const thrown = ApplicationFailure.create({ message: 'failed', details: ['abc'] });

    const failure = toActivityFailure(thrown, spanning) as ApplicationFailure;

    expect(failure.details).toBeUndefined();
  });
});
