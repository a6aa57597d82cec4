// The sync workflow's messages: what the client API, the CLI and the chunks send to a running sync.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { SyncProgress } from './contract.js';
import type { LaneName } from './plans.js';

export const progressQuery = defineQuery<SyncProgress>('progress');
export const pauseUpdate = defineUpdate<SyncProgress>('pause');
export const resumeUpdate = defineUpdate<SyncProgress>('resume');
export const throttleUpdate = defineUpdate<SyncProgress, [number]>('throttle');
/** Sent by a chunk the vendor refused for rate, so the sync can say what it is waiting for. */
export const backoffSignal = defineSignal<[{ lane: LaneName; until: number }]>('backoff');
