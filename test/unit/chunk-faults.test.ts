import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import {
  CHUNK_FAULT_ATTEMPTS,
  REFUSAL_SPLIT_CALLS,
  ROW_CALL_ATTEMPTS,
  afterFailedCall,
  boundedFailure,
} from '../../activities/chunk-faults.js';
import { FailureType } from '../../src/core/failures.js';
import {
  AuthError,
  BatchRefusedError,
  BatchTooLargeError,
  RateLimitedError,
  TransientError,
} from '../../src/vendors/errors.js';

const fault = new TransientError('503 Service Unavailable');

describe('a call that fails transiently', () => {
  it('is retried in place, each pause twice the one before', () => {
    expect(afterFailedCall(fault, 50, 1, REFUSAL_SPLIT_CALLS)).toEqual({ step: 'retry', pauseMs: 500 });
    expect(afterFailedCall(fault, 50, 2, REFUSAL_SPLIT_CALLS)).toEqual({ step: 'retry', pauseMs: 1000 });
  });

  it('has its batch halved after its third attempt, the halves sent as resends', () => {
    expect(afterFailedCall(fault, 50, 3, REFUSAL_SPLIT_CALLS)).toEqual({
      step: 'split',
      size: 25,
      splitCalls: 0,
      afterFault: true,
    });
  });

  it('is retried in place up to its sixth attempt when it holds one row', () => {
    expect(afterFailedCall(fault, 1, ROW_CALL_ATTEMPTS - 1, REFUSAL_SPLIT_CALLS)).toEqual({
      step: 'retry',
      pauseMs: 8000,
    });
  });

  it('rejects its one row after the sixth attempt, with the vendor last message', () => {
    expect(afterFailedCall(fault, 1, ROW_CALL_ATTEMPTS, REFUSAL_SPLIT_CALLS)).toEqual({
      step: 'reject',
      reason: '503 Service Unavailable (still failing after 6 attempts)',
    });
  });
});

describe('a batch the vendor finds too large', () => {
  it('is cut to the maximum the vendor states, which the worker keeps for later calls', () => {
    const tooLarge = new BatchTooLargeError('at most 20 leads', 20);

    expect(afterFailedCall(tooLarge, 50, 1, REFUSAL_SPLIT_CALLS)).toEqual({
      step: 'split',
      size: 20,
      stated: 20,
      splitCalls: 0,
      afterFault: false,
    });
  });

  it('is halved when the vendor states no maximum, or one the batch already keeps to', () => {
    expect(afterFailedCall(new BatchTooLargeError('too large'), 5, 1, REFUSAL_SPLIT_CALLS)).toMatchObject({
      step: 'split',
      size: 3,
    });
    const useless = afterFailedCall(new BatchTooLargeError('too large', 50), 50, 1, REFUSAL_SPLIT_CALLS);
    expect(useless).toMatchObject({ step: 'split', size: 25 });
    expect(useless).not.toHaveProperty('stated');
  });

  it('rejects a single row that is still too large', () => {
    expect(afterFailedCall(new BatchTooLargeError('body over 1 MB'), 1, 1, REFUSAL_SPLIT_CALLS)).toEqual({
      step: 'reject',
      reason: 'the vendor refused the row as too large: body over 1 MB',
    });
  });
});

describe('a batch the vendor refuses whole without naming rows', () => {
  const refused = new BatchRefusedError('422', 'lead validation failed');

  it('is halved, the two calls spent from the chunk split budget', () => {
    expect(afterFailedCall(refused, 400, 1, REFUSAL_SPLIT_CALLS)).toEqual({
      step: 'split',
      size: 200,
      splitCalls: 2,
      afterFault: false,
    });
  });

  it('is rejected whole with the vendor reason once the budget cannot pay for two more calls', () => {
    const next = afterFailedCall(refused, 25, 1, 1);

    expect(next).toEqual({
      step: 'reject',
      reason:
        'lead validation failed (the vendor refused these 25 rows together; not split further, ' +
        'the chunk spent its 32 calls finding refused rows)',
    });
  });
});

describe('a call failing for what no split can help', () => {
  it('fails the chunk: a rate limit, refused keys, anything not a vendor fault', () => {
    expect(afterFailedCall(new RateLimitedError('429', 1000), 50, 1, REFUSAL_SPLIT_CALLS)).toEqual({ step: 'fail' });
    expect(afterFailedCall(new AuthError('401'), 50, 1, REFUSAL_SPLIT_CALLS)).toEqual({ step: 'fail' });
    expect(afterFailedCall(new Error('bug'), 50, 1, REFUSAL_SPLIT_CALLS)).toEqual({ step: 'fail' });
  });
});

describe('the attempts of a chunk', () => {
  it('retries a fault until its eighth attempt, then fails the sync saying how many attempts failed', () => {
    const failure = ApplicationFailure.retryable('rejects store unreachable', 'Error');

    expect(boundedFailure(failure, CHUNK_FAULT_ATTEMPTS - 1)).toBe(failure);
    const bounded = boundedFailure(failure, CHUNK_FAULT_ATTEMPTS);
    expect(bounded).toBeInstanceOf(ApplicationFailure);
    expect(bounded).toMatchObject({
      nonRetryable: true,
      type: 'Error',
      message: 'rejects store unreachable (the chunk failed 8 attempts in a row)',
    });
  });

  it('retries a rate limit however many attempts it takes', () => {
    const limited = ApplicationFailure.create({ message: '429', type: FailureType.rateLimited });

    expect(boundedFailure(limited, 100)).toBe(limited);
  });

  it('leaves a failure already final, or not an application failure, as it is', () => {
    const final = ApplicationFailure.nonRetryable('bad key', FailureType.auth);
    const plain = new Error('plain');

    expect(boundedFailure(final, 100)).toBe(final);
    expect(boundedFailure(plain, 100)).toBe(plain);
  });
});
