/**
 * The failure types activities raise and workflows, the CLI and the client API read: one list, so a retry policy
 * and the code that raises a failure cannot disagree about a name.
 */
export const FailureType = {
  rateLimited: 'RateLimited',
  config: 'ConfigError',
  auth: 'AuthError',
  notFound: 'NotFound',
  unexpectedResponse: 'UnexpectedResponse',
  transient: 'Transient',
  /**
   * A chunk stopped because its sync was paused before all its calls were sent: the sync puts the chunk back with
   * its pending ones, and sends it whole on resume.
   */
  syncPaused: 'SyncPaused',
  /**
   * The worker's config does not name the account (yet): retried, so that the sync waits for a config reload that
   * adds it, or for a worker that has it.
   */
  accountUnknown: 'AccountUnknown',
} as const;

/** Failures no retry can fix: the sync stops and says why. */
export const NON_RETRYABLE: readonly string[] = [
  FailureType.config,
  FailureType.auth,
  FailureType.notFound,
  FailureType.unexpectedResponse,
];

/**
 * Failures that are the user's to fix (config, credentials, a missing target, an account no reload added), not a fault
 * of leadsync's.
 */
export const USER_FAILURES: readonly string[] = [
  FailureType.config,
  FailureType.auth,
  FailureType.notFound,
  FailureType.accountUnknown,
];
