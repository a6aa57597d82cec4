import { activityInfo } from '@temporalio/activity';
import { z } from 'zod';
import { MappingSchema } from '../src/core/mapping.js';
import { CursorSchema, FilePinSchema } from '../src/core/source-refs.js';
import { SourceRefSchema } from '../src/core/source-registry.js';
import { RunIdSchema } from '../src/core/rejects-ref.js';
import { type ScanResult } from '../src/sources/source.js';
import { readChunkRows } from './chunk-rows.js';
import { RecordsSchema } from '../src/core/contract.js';
import { VENDORS } from '../src/vendors/registry.js';
import type { ActivityContext } from './context.js';
import { toActivityFailure } from './failures.js';
import { withHeartbeats } from './heartbeat.js';
import { ConfigError } from '../src/core/errors.js';

/** What the scan activity is asked; checked by the activity, as anyone who can run a worker can schedule it. */
export const ScanRequestSchema = z.object({
  source: SourceRefSchema,
  cursor: CursorSchema,
  /** Rows per chunk to cut: a sync asks for a few pages of its lanes' chunks at a time. */
  sizes: z.array(z.number().int().positive().max(1_000_000)).min(1).max(10_000),
  /** The source file as prepare found it: a scan of a file that changed since fails the sync. */
  pin: FilePinSchema.optional(),
  /** The run whose first rows the scan records (SyncPlan.runId); absent in scans of syncs prepared before. */
  runId: RunIdSchema.optional(),
  /** Absent in scans scheduled before leads were deduplicated: those record no first rows. */
  account: z.string().min(1).optional(),
  records: RecordsSchema.optional(),
  mapping: MappingSchema.optional(),
  /** Cut the retry set's keys (src/rejects/row-store.ts) rather than the source: the start of a converging sync. */
  retry: z.literal(true).optional(),
  /** The sync's target: with the account, the source and the records, it names the retry set's scope. */
  target: z.record(z.string(), z.unknown()).optional(),
});
export type ScanRequest = z.infer<typeof ScanRequestSchema>;

/**
 * Cuts the next chunks, by reference: the workflow carries their ranges, never their rows. A leads sync also records
 * the first row of each email in the chunks cut, before any is handed out (see FirstRowIndex): scans run one at a
 * time in row order, so the first row of a lead is the first one scanned, whichever chunk lands first.
 */
export async function scanChunks(context: ActivityContext, request: ScanRequest): Promise<ScanResult> {
  try {
    if (request.retry) return await withHeartbeats(() => scanRetrySet(context, request));
    return await withHeartbeats(() =>
      context.withSource(
        request.source,
        async (source) => {
          const scan = await source.scan(request.cursor, request.sizes);
          if (request.records !== 'leads' || request.account === undefined) return scan;
          const vendor = VENDORS.named(context.account(request.account).vendor);
          const syncId = activityInfo().workflowExecution?.workflowId;
          if (syncId === undefined) return scan;
          for (const chunk of scan.chunks) {
            const { leads } = await readChunkRows(source, vendor, request.mapping, chunk, 'leads');
            await context.firstRows.record({ syncId, ...(request.runId ? { runId: request.runId } : {}) }, leads);
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

/**
 * The retry set's next key ranges. Its rows' first rows are not recorded: a lead the set and the source's own chunks
 * both carry in one run is sent by each.
 */
async function scanRetrySet(context: ActivityContext, request: ScanRequest): Promise<ScanResult> {
  const scope =
    request.account === undefined
      ? undefined
      : context.recurrenceScope({ ...request, account: request.account, target: request.target ?? {} });
  if (scope === undefined) {
    throw new ConfigError('a scan of the retry set needs an account and the config to name a row store (convergence)');
  }
  return context.withRowStore((store) => store.scanRetries(scope, request.cursor, request.sizes));
}
