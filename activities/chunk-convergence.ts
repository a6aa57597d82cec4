import type { ChunkRange } from '../src/core/source-refs.js';
import type { Source, SourceRow } from '../src/sources/source.js';
import type { ChunkOutcome, RowStore, StoredRow } from '../src/rejects/row-store.js';
import type { Reject } from '../src/rejects/types.js';
import type { RowOutcome } from '../src/vendors/types.js';
import type { ChunkRows } from './chunk-rows.js';

/** A chunk of a converging sync: the row store and the scope its rows recur in. */
export interface Converging {
  store: RowStore;
  scope: string;
}

/**
 * A chunk of the retry set: its keys, and their rows read from the source as they are now (numbered in the set's
 * order from the chunk's first row). The keys no row has any more leave the set when the chunk is recorded.
 */
export async function readRetryChunk(
  { store, scope }: Converging,
  source: Source,
  range: ChunkRange,
): Promise<{ keys: string[]; rows: AsyncIterable<SourceRow> }> {
  if (!source.readKeys) throw new Error('a chunk of the retry set needs a source that reads rows by key');
  const keys = await store.retryKeys(scope, range);
  return { keys, rows: source.readKeys(keys, range.firstRow) };
}

/**
 * Whether a row read is one not to send: the store holds this very version of it, landed, or (in the source's own
 * chunks) already in the retry set, whose pass at the start of the run sent it; or refused by leadsync's own checks,
 * which refuse it again until it changes.
 */
function unchanged(entry: StoredRow | undefined, version: string, retry: boolean): boolean {
  if (!entry || entry.version !== version) return false;
  return entry.state === 'landed' || entry.kind === 'check' || !retry;
}

/**
 * Leaves out of a chunk's rows those not to send (see unchanged), with one query for the whole chunk: they are neither
 * sent nor rejected, and count as unchanged.
 */
export async function leaveOutUnchanged(
  { store, scope }: Converging,
  read: ChunkRows,
  retry: boolean,
): Promise<{ read: ChunkRows; unchanged: number }> {
  const entries = await store.entries(
    scope,
    [...read.keyed.values()].map((row) => row.key),
  );
  const left = new Set<number>();
  for (const [row, { key, version }] of read.keyed) {
    if (unchanged(entries.get(key), version, retry)) left.add(row);
  }
  if (left.size === 0) return { read, unchanged: 0 };
  const kept = (row: number | undefined) => row === undefined || !left.has(row);
  return {
    read: {
      ...read,
      leads: read.leads.filter((lead) => kept(lead.row)),
      rejects: read.rejects.filter((reject) => kept(reject.row)),
    },
    unchanged: left.size,
  };
}

/**
 * What the chunk did with each keyed row it sent or refused: landed when the vendor took it (with the vendor's id of
 * it when the answer gave one), failed (the vendor's refusal, or leadsync's own checks) when the rejects name it; keys
 * of the retry set that no row has any more are gone.
 */
export function chunkOutcome(
  read: ChunkRows,
  outcomes: readonly RowOutcome[],
  rejects: readonly Reject[],
  retryKeys: readonly string[] = [],
): ChunkOutcome {
  const refusedByVendor = new Set(outcomes.flatMap((o) => (o.status === 'rejected' ? [o.row] : [])));
  const reasons = new Map<number, string[]>();
  for (const reject of rejects) {
    if (reject.row === undefined) continue;
    const why = reject.field ? `${reject.field}: ${reject.reason}` : reject.reason;
    reasons.set(reject.row, [...(reasons.get(reject.row) ?? []), why]);
  }
  const landed: ChunkOutcome['landed'] = [];
  for (const outcome of outcomes) {
    const keyed = read.keyed.get(outcome.row);
    if (outcome.status !== 'accepted' || !keyed || reasons.has(outcome.row)) continue;
    landed.push(outcome.vendorId === undefined ? keyed : { ...keyed, vendorId: outcome.vendorId });
  }
  const failed: ChunkOutcome['failed'] = [];
  for (const [row, why] of reasons) {
    const keyed = read.keyed.get(row);
    if (keyed) failed.push({ ...keyed, kind: refusedByVendor.has(row) ? 'vendor' : 'check', reason: why.join('; ') });
  }
  const found = new Set([...read.keyed.values()].map((row) => row.key));
  return { landed, failed, gone: retryKeys.filter((key) => !found.has(key)) };
}
