import type { ChunkTask, RejectsReportRequest, SyncRequest } from '../src/sync/contract.js';
import type { RejectsReport } from '../src/sync/rejects-ref.js';
import type { ActivityContext } from './context.js';
import { toActivityFailure } from './failures.js';
import { prepareSync } from './prepare-sync.js';
import { pushChunk } from './push-chunk.js';
import { scanChunks, type ScanRequest } from './scan-chunks.js';

export { ActivityContext, type ActivityDeps } from './context.js';

/** The sync's activities, bound to one worker process's context: its config, Temporal client and credentials. */
export function createActivities(context: ActivityContext) {
  return {
    prepareSync: (request: SyncRequest) => prepareSync(context, request),
    scanChunks: (request: ScanRequest) => scanChunks(context, request),
    pushChunk: (task: ChunkTask) => pushChunk(context, task),
    /**
     * The CSV report's path (files), or the table's report: where the sync's rejects are; undefined when none. The
     * worker's config says where they are, whatever the request carries.
     */
    writeRejectsReport: (request: RejectsReportRequest): Promise<RejectsReport> =>
      context
        .withRejectsSink((sink) => sink.report(request.syncId))
        .catch((err: unknown) => {
          throw toActivityFailure(err, context.redactor);
        }),
  };
}

export type SyncActivities = ReturnType<typeof createActivities>;
