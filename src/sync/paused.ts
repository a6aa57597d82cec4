// Workflow-safe: a name only.

/**
 * The failure type of a chunk stopped because its sync was paused before all its calls were sent: the sync puts the
 * chunk back with its pending ones, and sends it whole on resume.
 */
export const SYNC_PAUSED = 'SyncPaused';
