import { ApplicationFailure } from '@temporalio/common';
import type { Redactor } from '../src/observability/redactor.js';
import { UnknownAccountError } from '../src/config/accounts.js';
import { ConfigError } from '../src/core/errors.js';
import { FailureType } from '../src/core/failures.js';
import { VendorError } from '../src/vendors/errors.js';

/**
 * Turns what a vendor call threw into what Temporal should do with it: a rate limit retries exactly when the vendor
 * said, a transient fault retries with backoff, and what no retry can fix (credentials, config, a missing target,
 * an answer we do not understand) fails the sync at once; an account the config does not name yet is retried, for a
 * reload may add it. Every message passes the redactor on the way out.
 */
export function toActivityFailure(err: unknown, redactor: Redactor): Error {
  if (err instanceof ApplicationFailure) return redactedFailure(err, redactor);
  const message = redactor.redact(err instanceof Error ? err.message : String(err));
  if (err instanceof UnknownAccountError) return ApplicationFailure.retryable(message, FailureType.accountUnknown);
  if (err instanceof ConfigError) return ApplicationFailure.nonRetryable(message, FailureType.config);
  if (!(err instanceof VendorError))
    return ApplicationFailure.retryable(message, err instanceof Error ? err.name : 'Error');
  switch (err.kind) {
    case 'rate-limited':
      return ApplicationFailure.create({
        message,
        type: FailureType.rateLimited,
        nextRetryDelay: 'retryAfterMs' in err ? Math.max(1, Number(err.retryAfterMs)) : undefined,
      });
    case 'auth':
      return ApplicationFailure.nonRetryable(message, FailureType.auth);
    case 'not-found':
      return ApplicationFailure.nonRetryable(message, FailureType.notFound);
    case 'unexpected-response':
      return ApplicationFailure.nonRetryable(message, FailureType.unexpectedResponse);
    case 'transient':
      return ApplicationFailure.retryable(message, FailureType.transient);
    case 'batch-too-large':
      // pushChunk splits batches down to one row; a single row the vendor still finds too large cannot succeed.
      return ApplicationFailure.nonRetryable(message, FailureType.unexpectedResponse);
  }
}

/** An ApplicationFailure thrown as is (a source's or a library's) is rebuilt with its texts redacted, cause and all. */
function redactedFailure(failure: ApplicationFailure, redactor: Redactor): ApplicationFailure {
  return ApplicationFailure.create({
    message: redactor.redact(failure.message),
    type: failure.type === undefined || failure.type === null ? undefined : redactor.redact(failure.type),
    nonRetryable: failure.nonRetryable ?? undefined,
    details: failure.details ? redactedDetails(failure.details, redactor) : undefined,
    nextRetryDelay: failure.nextRetryDelay,
    cause: failure.cause ? new Error(redactor.redact(failure.cause.message)) : undefined,
  });
}

/**
 * Details are JSON on the wire: redacting their JSON text finds a secret at any depth, escaped forms included. A
 * secret whose removal breaks the JSON (one spanning its quoting) takes the details with it, rather than leak.
 */
function redactedDetails(details: unknown[], redactor: Redactor): unknown[] | undefined {
  try {
    return JSON.parse(redactor.redact(JSON.stringify(details))) as unknown[];
  } catch {
    return undefined;
  }
}
