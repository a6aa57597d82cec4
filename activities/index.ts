import type { z } from 'zod';
import {
  ChunkTaskSchema,
  RejectsReportRequestSchema,
  RetrySetRequestSchema,
  type RetrySetRequest,
  type RetrySetSummary,
  SyncInputSchema,
  type ChunkTask,
  type RejectsReportRequest,
  type SyncRequest,
} from '../src/core/contract.js';
import type { RejectsReport } from '../src/core/rejects-ref.js';
import { AlertTriggerSchema, type AlertTrigger } from '../src/core/alerts.js';
import { ConfigError } from '../src/core/errors.js';
import { assertOwnSync, parseActivityArgument } from './arguments.js';
import type { ActivityContext } from './context.js';
import { AlertDeliverySchema, alertTargets, deliverAlert, type AlertDelivery } from './deliver-alert.js';
import { toActivityFailure } from './failures.js';
import { prepareSync } from './prepare-sync.js';
import { pushChunk } from './push-chunk.js';
import { scanChunks, ScanRequestSchema, type ScanRequest } from './scan-chunks.js';

export { ActivityContext, type ActivityDeps } from './context.js';

/**
 * The sync's activities, bound to one worker process's context: its config, Temporal client and credentials. Each
 * checks its argument first (see parseActivityArgument): its types say what a leadsync workflow sends, not what
 * arrives.
 */
export function createActivities(context: ActivityContext) {
  /** The argument as its schema reads it, or the activity fails with a non-retryable ConfigError saying why. */
  const checked = <S extends z.ZodType>(
    activity: string,
    schema: S,
    value: unknown,
    syncId?: (v: z.output<S>) => string,
  ) => {
    try {
      const parsed = parseActivityArgument(activity, schema, value);
      if (syncId) assertOwnSync(activity, syncId(parsed));
      return parsed;
    } catch (err) {
      throw toActivityFailure(err, context.redactor);
    }
  };
  return {
    prepareSync: (request: SyncRequest) => prepareSync(context, checked('prepareSync', SyncInputSchema, request)),
    scanChunks: (request: ScanRequest) => scanChunks(context, checked('scanChunks', ScanRequestSchema, request)),
    pushChunk: (task: ChunkTask) =>
      pushChunk(
        context,
        checked('pushChunk', ChunkTaskSchema, task, (t) => t.syncId),
      ),
    /** The retry set of a converging sync's scope, once its chunks are done. */
    retrySetSummary: async (raw: RetrySetRequest): Promise<RetrySetSummary> => {
      const request = checked('retrySetSummary', RetrySetRequestSchema, raw, (r) => r.syncId);
      try {
        const scope = context.recurrenceScope(request);
        if (scope === undefined) throw new ConfigError('the config names no row store (convergence) for this source');
        return await context.withRowStore((store) => store.summary(scope));
      } catch (err) {
        throw toActivityFailure(err, context.redactor);
      }
    },
    /**
     * The CSV report's path (files), or the table's report: where the sync's rejects are; undefined when none. The
     * worker's config says where they are, whatever the request carries.
     */
    writeRejectsReport: async (raw: RejectsReportRequest): Promise<RejectsReport> => {
      const request = checked('writeRejectsReport', RejectsReportRequestSchema, raw, (r) => r.syncId);
      return context
        .withRejectsSink((sink) =>
          sink.report({ syncId: request.syncId, ...(request.runId ? { runId: request.runId } : {}) }),
        )
        .catch((err: unknown) => {
          throw toActivityFailure(err, context.redactor);
        });
    },
    /** The configured targets an alert with this trigger goes to (none when the config has it off). */
    alertTargets: async (trigger: AlertTrigger) =>
      alertTargets(context, checked('alertTargets', AlertTriggerSchema, trigger)),
    deliverAlert: (delivery: AlertDelivery) =>
      deliverAlert(context, checked('deliverAlert', AlertDeliverySchema, delivery)),
  };
}

export type SyncActivities = ReturnType<typeof createActivities>;
