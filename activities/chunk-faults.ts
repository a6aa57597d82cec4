import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../src/core/failures.js';
import { BatchRefusedError, BatchTooLargeError, TransientError } from '../src/vendors/errors.js';

/** Attempts of one vendor call that fails transiently (5xx, timeout, dropped connection) before its rows are split. */
const CALL_ATTEMPTS = 3;
/**
 * Attempts of a one-row call before that row is rejected for faults. A lost answer looks like any other fault, and the
 * write behind it may have landed: on a link losing a tenth of its answers, three in a row rejected about one good
 * row in a thousand, six reject one in a million; a row the vendor keeps failing on costs about 16 s more.
 */
export const ROW_CALL_ATTEMPTS = 6;
const FIRST_CALL_RETRY_PAUSE_MS = 500;
/**
 * Attempts of a chunk that fails for anything but a rate limit (the source or the rejects store unreachable, a bug):
 * with the retry policy's backoff about two minutes, then the sync fails saying what went wrong. A rate limit is not
 * a fault: it retries at the vendor's time as long as it takes.
 */
export const CHUNK_FAULT_ATTEMPTS = 8;

/**
 * Times one call is refused for rate before its chunk's attempt fails. Each refusal is reported, and the call waits
 * for a slot after the vendor's time, so these are a vendor stricter than the plan (the governor cuts the lane's
 * windows at each) or another client on the key; the chunk's retry then waits at Temporal's level instead, and sends
 * the chunk's calls that landed again.
 */
export const RATE_LIMITED_CALL_ATTEMPTS = 5;
/**
 * The longest vendor's time a refused call waits for in place. Longer (a per-hour window spent) and the chunk's
 * attempt fails instead: an hour's wait belongs to Temporal's retry timer, not to an activity heartbeating past its
 * 10-minute start-to-close.
 */
export const RATE_LIMITED_WAIT_IN_PLACE_MS = 60_000;

/**
 * Extra calls a chunk may spend splitting batches the vendor refused whole without naming a row (BatchRefusedError:
 * SmartLead's "lead validation failed", a LeadSquared bulk refusal). Halving finds k refused rows of n in about
 * 2k*log2(n/k) calls, but when the vendor refuses every row it takes 2n-1: 799 calls for SmartLead's 400, over 13
 * minutes at its 60 calls a minute, past the chunk's 10-minute start-to-close, so the chunk would time out and start
 * over, a stall. 32 calls (about half a minute at that rate, on top of the chunk's own calls) still find 2-3 refused
 * rows of 400 exactly; past it, the batches still refused are rejected whole with the vendor's message.
 */
export const REFUSAL_SPLIT_CALLS = 32;

/** What a chunk does with a batch whose call failed. */
export type NextStep =
  /** Every row of the batch goes to the rejects, for this reason. */
  | { step: 'reject'; reason: string }
  /** The same call again, after this pause. */
  | { step: 'retry'; pauseMs: number }
  /**
   * The batch sent again in parts of `size` rows. `stated`: the maximum the vendor named, for the worker's later
   * calls. `splitCalls`: what the parts spend of the chunk's REFUSAL_SPLIT_CALLS. `afterFault`: the call kept
   * failing, so its rows may have landed and the parts are resends.
   */
  | { step: 'split'; size: number; stated?: number; splitCalls: number; afterFault: boolean }
  /** Not the batch's to handle (a rate limit, refused keys, an answer the vendor never gives): the chunk fails. */
  | { step: 'fail' };

/**
 * After the `attempt`th call of a batch of `rows` failed with `err`: retried in place a few times when it fails
 * transiently, split when it still fails or the vendor says it is too large (halves, or the vendor's stated maximum),
 * and a single row that keeps failing is rejected with the vendor's last message. `splitCallsLeft`: what the chunk has
 * left of REFUSAL_SPLIT_CALLS; past it, a batch refused whole is rejected whole.
 */
export function afterFailedCall(err: unknown, rows: number, attempt: number, splitCallsLeft: number): NextStep {
  if (err instanceof BatchRefusedError && rows > 1 && splitCallsLeft < 2) {
    const reason =
      `${err.reason} (the vendor refused these ${rows} rows together; not split further, ` +
      `the chunk spent its ${REFUSAL_SPLIT_CALLS} calls finding refused rows)`;
    return { step: 'reject', reason };
  }
  if (err instanceof BatchTooLargeError) {
    if (rows === 1) return { step: 'reject', reason: `the vendor refused the row as too large: ${err.message}` };
    // The maximum the vendor names, kept for the worker's later calls; halves when it names none.
    const { maxRows } = err;
    const stated = maxRows !== undefined && maxRows >= 1 && maxRows < rows ? maxRows : undefined;
    const size = stated ?? Math.ceil(rows / 2);
    const splitCalls = err instanceof BatchRefusedError ? Math.ceil(rows / size) : 0;
    return { step: 'split', size, ...(stated !== undefined ? { stated } : {}), splitCalls, afterFault: false };
  }
  if (!(err instanceof TransientError)) return { step: 'fail' };
  const attempts = rows === 1 ? ROW_CALL_ATTEMPTS : CALL_ATTEMPTS;
  if (attempt < attempts) return { step: 'retry', pauseMs: FIRST_CALL_RETRY_PAUSE_MS * 2 ** (attempt - 1) };
  if (rows === 1)
    return { step: 'reject', reason: `${err.message} (still failing after ${ROW_CALL_ATTEMPTS} attempts)` };
  return { step: 'split', size: Math.ceil(rows / 2), splitCalls: 0, afterFault: true };
}

/** A chunk's failure on its `attempt`th attempt: past CHUNK_FAULT_ATTEMPTS, a fault stops retrying and fails the sync. */
export function boundedFailure(failure: Error, attempt: number): Error {
  if (!(failure instanceof ApplicationFailure) || failure.nonRetryable) return failure;
  if (failure.type === FailureType.rateLimited || attempt < CHUNK_FAULT_ATTEMPTS) return failure;
  return ApplicationFailure.nonRetryable(
    `${failure.message} (the chunk failed ${attempt} attempts in a row)`,
    failure.type ?? 'Error',
  );
}
