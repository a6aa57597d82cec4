import { applyMapping, identityMapping, type Mapping } from '../src/core/mapping.js';
import type { ChunkRange } from '../src/core/source-refs.js';
import type { Source, SourceRow } from '../src/sources/source.js';
import { ConfigError } from '../src/core/errors.js';
import type { FieldProblem, VendorRecord, Vendor } from '../src/vendors/types.js';
import type { Records } from '../src/core/contract.js';
import type { Reject } from '../src/rejects/types.js';

/** What of a vendor reading a chunk needs: its email field and its rules on fields. */
export type RowChecks = Pick<Vendor, 'name' | 'emailField' | 'checkLead' | 'checkActivity'>;

/** The vendor's checks for rows of this kind; a vendor without activities cannot take an activities sync. */
export function recordCheck(vendor: RowChecks, records: Records): (fields: Record<string, string>) => FieldProblem[] {
  if (records === 'leads') return (fields) => vendor.checkLead(fields);
  const { checkActivity } = vendor;
  if (!checkActivity) throw new ConfigError(`${vendor.name} has no activities: sync leads into it`);
  return (fields) => checkActivity(fields);
}

/** One chunk's rows (leads or activities) after mapping and the vendor's checks: the ones to send, and why the others cannot be. */
export interface ChunkRows {
  leads: VendorRecord[];
  rejects: Reject[];
  /** Rows read, good and bad. */
  rows: number;
  /** The source key of each row read that has one (a table's rows), by row: its rejects carry it. */
  keys: Map<number, string>;
  /** Each row's key and version, by row number, for the rows of a table read in increments. */
  keyed: Map<number, { key: string; version: string }>;
}

/**
 * Reads a chunk by its range, maps each row and checks it as the vendor would. The chunk activity sends what this
 * returns and the dry run counts it: one code path, so a dry run's rejects are the ones a sync would report.
 */
export async function readChunkRows(
  source: Source,
  vendor: RowChecks,
  mapping: Mapping | undefined,
  range: ChunkRange,
  records: Records,
  /** The rows to read instead of the range's: a chunk of the retry set, read by key. */
  rows: AsyncIterable<SourceRow> = source.read(range),
): Promise<ChunkRows> {
  const fieldsOf = mapping ?? identityMapping(await source.columns());
  const check = recordCheck(vendor, records);
  const leads: VendorRecord[] = [];
  const rejects: Reject[] = [];
  const keys = new Map<number, string>();
  const keyed: ChunkRows['keyed'] = new Map();
  let count = 0;
  // A file's byte range holds exactly the rows its scan counted (a table's key range may gain rows: they are read).
  // More is a range no scan cut (a forged workflow state) or a file rewritten: stop before it fills the memory.
  const exact = source.pin !== undefined;
  for await (const read of rows) {
    count++;
    if (exact && count > range.rows) {
      throw new ConfigError(
        `the chunk at row ${range.firstRow} holds more than the ${range.rows} rows its scan counted`,
      );
    }
    if ('unreadable' in read) {
      rejects.push({ row: read.row, reason: `unreadable row: ${read.unreadable}` });
      continue;
    }
    if (read.key !== undefined) keys.set(read.row, read.key);
    if (read.key !== undefined && read.version !== undefined) {
      keyed.set(read.row, { key: read.key, version: read.version });
    }
    const fields = applyMapping(fieldsOf, read.values, vendor.emailField);
    const problems = check(fields);
    if (problems.length > 0) {
      rejects.push(...problems.map((p) => ({ row: read.row, field: p.field, reason: p.reason })));
      continue;
    }
    leads.push({ row: read.row, email: fields[vendor.emailField]!, fields });
  }
  return { leads, rejects, rows: count, keys, keyed };
}
