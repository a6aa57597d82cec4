import { activityInfo } from '@temporalio/activity';
import type { Mapping } from '../src/sources/mapping.js';
import type { Cursor, FilePin, ScanResult, SourceRef } from '../src/sources/types.js';
import { readChunkRows } from '../src/sync/chunk-rows.js';
import type { Records } from '../src/sync/contract.js';
import { vendorFor } from '../src/vendors/registry.js';
import type { ActivityContext } from './context.js';
import { toActivityFailure } from './failures.js';
import { withHeartbeats } from './heartbeat.js';

export interface ScanRequest {
  source: SourceRef;
  cursor: Cursor;
  sizes: number[];
  /** The source file as prepare found it: a scan of a file that changed since fails the sync. */
  pin?: FilePin;
  /** Absent in scans scheduled before leads were deduplicated: those record no first rows. */
  account?: string;
  records?: Records;
  mapping?: Mapping;
}

/**
 * Cuts the next chunks, by reference: the workflow carries their ranges, never their rows. A leads sync also records
 * the first row of each email in the chunks cut, before any is handed out (see FirstRowIndex): scans run one at a
 * time in row order, so the first row of a lead is the first one scanned, whichever chunk lands first.
 */
export async function scanChunks(context: ActivityContext, request: ScanRequest): Promise<ScanResult> {
  try {
    return await withHeartbeats(() =>
      context.withSource(
        request.source,
        async (source) => {
          const scan = await source.scan(request.cursor, request.sizes);
          if (request.records !== 'leads' || request.account === undefined) return scan;
          const vendor = vendorFor(context.account(request.account).vendor);
          const syncId = activityInfo().workflowExecution?.workflowId;
          if (syncId === undefined) return scan;
          for (const chunk of scan.chunks) {
            const { leads } = await readChunkRows(source, vendor, request.mapping, chunk, 'leads');
            await context.firstRows.record(syncId, leads);
          }
          return scan;
        },
        request.pin,
      ),
    );
  } catch (err) {
    throw toActivityFailure(err, context.redactor);
  }
}
