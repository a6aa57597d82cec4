/**
 * Whole-call failures, each named for what the caller must do. Row-level problems are not errors:
 * they come back as rejected row outcomes and the rest of the chunk goes on.
 */
export abstract class VendorError extends Error {
  abstract readonly kind:
    'rate-limited' | 'auth' | 'transient' | 'batch-too-large' | 'unexpected-response' | 'not-found';
}

/**
 * The longest a refusal for rate makes anything wait. SmartLead's longest window is an hour and LeadSquared's five
 * seconds: a vendor (or a proxy before it) naming a longer wait is wrong, and taken literally would stall the account,
 * or overflow a timer and send at once.
 */
export const MAX_VENDOR_WAIT_MS = 60 * 60 * 1000;

/** The vendor refused for rate: retry at `retryAfterMs`, and tell the governor what the vendor said. */
export class RateLimitedError extends VendorError {
  readonly kind = 'rate-limited';
  override name = 'RateLimitedError';
  /** The wait as leadsync takes it: what the vendor named, within [0, MAX_VENDOR_WAIT_MS]. */
  readonly retryAfterMs: number;
  constructor(
    message: string,
    /** The wait the vendor named, as it named it. */
    readonly statedRetryAfterMs: number,
    /** The window the vendor says it enforces, when it says (LeadSquared: "limit of 25 in 5 second(s)"). */
    readonly window?: { limit: number; seconds: number },
    /** The limit of the window that refused, when the vendor names it (SmartLead: X-RateLimit-Limit on a 429). */
    readonly refusedLimit?: number,
    /**
     * Whether the vendor said when to retry. LeadSquared names only its window, and `retryAfterMs` is then the
     * whole window: surely long enough for the refused call, far longer than the rest of the lane needs to wait.
     */
    readonly retryAfterStated = true,
  ) {
    const clamped = Number.isFinite(statedRetryAfterMs)
      ? Math.min(Math.max(0, statedRetryAfterMs), MAX_VENDOR_WAIT_MS)
      : MAX_VENDOR_WAIT_MS;
    super(
      clamped === statedRetryAfterMs
        ? message
        : `${message}; the vendor asked for a wait of ${statedRetryAfterMs} ms, leadsync waits ${clamped} ms`,
    );
    this.retryAfterMs = clamped;
  }
}

/** Wrong or missing credentials: retrying cannot help. */
export class AuthError extends VendorError {
  readonly kind = 'auth';
  override name = 'AuthError';
}

/** 5xx, timeouts, dropped connections: retry with backoff. */
export class TransientError extends VendorError {
  readonly kind = 'transient';
  override name = 'TransientError';
}

/** The batch exceeds what the vendor takes in one call: split it and send the halves. */
export class BatchTooLargeError extends VendorError {
  readonly kind = 'batch-too-large';
  override name = 'BatchTooLargeError';
  constructor(
    message: string,
    readonly maxRows?: number,
  ) {
    super(message);
  }
}

/**
 * The vendor refused the whole batch for some of its rows without naming them (SmartLead's 422 "lead validation
 * failed"): split it, as an over-size batch is split, until the refusing rows stand alone. A client
 * never throws this for a single row: it makes that row's reject of `reason`, the vendor's own words.
 */
export class BatchRefusedError extends BatchTooLargeError {
  override name = 'BatchRefusedError';
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

/** The target (campaign, account) does not exist: a configuration problem, not retryable. */
export class NotFoundError extends VendorError {
  readonly kind = 'not-found';
  override name = 'NotFoundError';
}

/** The vendor answered something its documented API never does: fail loudly rather than guess. */
export class UnexpectedResponseError extends VendorError {
  readonly kind = 'unexpected-response';
  override name = 'UnexpectedResponseError';
}
