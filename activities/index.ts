import type { Cursor, SourceRef } from '../src/sources/types.js';
import { writeRejectsReport } from '../src/sync/rejects.js';
import type { ChunkTask, RejectsReportRequest, SyncRequest } from '../src/sync/contract.js';
import { ActivityContext, type ActivityDeps } from './context.js';
import { prepareSync } from './prepare-sync.js';
import { pushChunk } from './push-chunk.js';

export type { ActivityDeps } from './context.js';

/** The sync's activities, bound to one worker process's config, Temporal client and credentials. */
export function createActivities(deps: ActivityDeps) {
  const context = new ActivityContext(deps);
  return {
    prepareSync: (request: SyncRequest) => prepareSync(context, request),
    /** Cuts the next chunks, by reference: the workflow carries their ranges, never their rows. */
    scanChunks: ({ source, cursor, sizes }: { source: SourceRef; cursor: Cursor; sizes: number[] }) =>
      context.withSource(source, (opened) => opened.scan(cursor, sizes)),
    pushChunk: (task: ChunkTask) => pushChunk(context, task),
    writeRejectsReport: (request: RejectsReportRequest) => writeRejectsReport(request.rejectsDirectory, request.syncId),
  };
}

export type SyncActivities = ReturnType<typeof createActivities>;
