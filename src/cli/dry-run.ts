import { findAccount, type LoadedConfig } from '../config/accounts.js';
import { ConfigError, formatZodIssues } from '../core/errors.js';
import { syncAllowances } from '../core/allowance.js';
import type { LaneName } from '../core/plans.js';
import { checkMapping, identityMapping } from '../core/mapping.js';
import { postgresConnectionResolver, postgresLookBack } from '../sources/postgres-connection.js';
import { openSource } from '../sources/registry.js';
import { START, type Cursor } from '../core/source-refs.js';
import type { VendorRegistry } from '../vendors/registry.js';
import { readChunkRows, recordCheck } from '../../activities/chunk-rows.js';
import type { SyncRequest } from '../core/contract.js';
import { FirstRowIndex } from '../rejects/first-rows.js';
import { writeChunkRejects, writeRejectsReport } from '../rejects/files.js';
import type { Reject } from '../rejects/types.js';

/** Rows read per step: one page of the source, whatever the lanes' batch sizes. */
const READ_ROWS = 1_000;
/** Rejects a dry run shows inline; the rest are in its report file. */
const SHOWN_REJECTS = 20;

export interface DryRunLane {
  lane: LaneName;
  rows: number;
  calls: number;
}

export interface DryRunReport {
  account: string;
  plan: string;
  rows: number;
  /** Rows that passed every check and would be sent. */
  valid: number;
  /** Rows that would go to the rejects report. */
  rejectedRows: number;
  /** The first rejects, with their reasons; all of them are in rejectsFile. */
  rejects: Reject[];
  rejectsFile?: string;
  /** Calls per lane at the plan's split, plus the one credential check every sync makes first. */
  lanes: DryRunLane[];
  checkCalls: number;
  /** The plan's ceiling times the sync's share: the rate the progress bar counts time left by. */
  rowsPerSecond: number;
  estimatedSeconds: number;
}

/**
 * Reads, maps and checks a whole source as a sync would, with no vendor call and no Temporal: the account, target,
 * source and mapping are checked first (as prepareSync does), then every chunk goes through the chunk activity's
 * own read-map-check code. Rejects go to a report file like a sync's; the estimate is the plan's ceiling.
 */
export async function dryRun(
  config: LoadedConfig,
  request: SyncRequest,
  dryRunId: string,
  vendors: VendorRegistry,
): Promise<DryRunReport> {
  // A dry run's id is its own: its rejects are under that id alone.
  const owner = { syncId: dryRunId };
  const account = findAccount(config, request.account);
  const vendor = vendors.named(account.vendor);
  const target = vendor.targetSchema.safeParse(request.target);
  if (!target.success) {
    throw new ConfigError(`a sync to ${vendor.name} needs a target:\n${formatZodIssues(target.error)}`);
  }
  const source = await openSource(request.source, {
    boundary: config.boundary,
    resolvePostgresConnection: postgresConnectionResolver(config.postgresConnections),
    postgresLookBackSeconds: postgresLookBack(config),
  });
  let rows = 0;
  let valid = 0;
  const shown: Reject[] = [];
  try {
    const columns = await source.columns();
    const mapping = request.mapping ?? identityMapping(columns);
    checkMapping(mapping, columns, vendor.emailField);
    recordCheck(vendor, request.records);
    let cursor: Cursor = START;
    // The sync's own rule: the first row of a lead is sent, and later rows with its email are rejects.
    const firstRows = new FirstRowIndex(config.rejectsDirectory);
    for (;;) {
      const scan = await source.scan(cursor, [READ_ROWS]);
      for (const chunk of scan.chunks) {
        const read = await readChunkRows(source, vendor, mapping, chunk, request.records);
        const { leads, duplicates } =
          request.records === 'leads'
            ? await firstRows
                .record(owner, read.leads)
                .then(() => firstRows.separate(owner, read.leads, vendor.emailField))
            : { leads: read.leads, duplicates: [] };
        const rejects = [...read.rejects, ...duplicates];
        rows += read.rows;
        valid += leads.length;
        shown.push(...rejects.slice(0, SHOWN_REJECTS - shown.length));
        await writeChunkRejects(config.rejectsDirectory, owner, chunk.firstRow, rejects);
      }
      cursor = scan.cursor;
      if (scan.done) break;
    }
  } finally {
    await source.close?.();
  }
  const rejectsFile = await writeRejectsReport(config.rejectsDirectory, owner);
  const allowances = syncAllowances(account.effectivePlan, request.records);
  const planRate = allowances.reduce((sum, a) => sum + a.rowsPerSecond, 0);
  // Each lane carries rows in proportion to its share of the plan's rows per second, as the sync's scans deal them.
  let dealt = 0;
  const lanes = allowances.map((a, i) => {
    const laneRows = i === allowances.length - 1 ? valid - dealt : Math.round((valid * a.rowsPerSecond) / planRate);
    dealt += laneRows;
    return { lane: a.lane, rows: laneRows, calls: Math.ceil(laneRows / a.rowsPerCall) };
  });
  const rowsPerSecond = planRate * request.share;
  return {
    account: account.name,
    plan: account.effectivePlan.name,
    rows,
    valid,
    rejectedRows: rows - valid,
    rejects: shown,
    ...(rejectsFile ? { rejectsFile } : {}),
    lanes,
    checkCalls: 1,
    rowsPerSecond,
    estimatedSeconds: valid / rowsPerSecond,
  };
}
