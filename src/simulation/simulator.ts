import type { VendorName } from '../core/plans.js';
import type { FaultOptions } from './faults.js';
import type { RequestRecord, RequestTotals, WriteKind } from './request-log.js';

/** What landed in a simulator and how it was asked: cheap to take, counters rather than scans. */
export interface SimulatorReport {
  vendor: VendorName;
  /** Every request in arrival order; left empty when the report is taken with `{ requests: false }`. */
  requests: RequestRecord[];
  totals: RequestTotals;
  /** Leads stored (distinct by email; per campaign for SmartLead), and the writes that created or updated them. */
  leads: { count: number; created: number; updated: number };
  /** Writes that stored something already stored: an activity identical to one before it. Upserts never count. */
  duplicates: number;
  activities: number;
  /** Requests an invisible second client spent on the same key (SmartLead's shared-key mode). */
  sharedKey?: { spent: number; refused: number };
  /**
   * Connections accepted that carried vendor requests since the simulator started (a reset keeps it): against
   * `totals.requests`, how well the client keeps its connections.
   */
  connections: number;
}

/** A report as the vendor's state makes it: the server adds what it saw of connections. */
export type StateReport = Omit<SimulatorReport, 'connections'>;

export interface ReportOptions {
  /** Include every request's record (default true); a benchmark polling totals can leave them out. */
  requests?: boolean;
}

/** A simulator listening on a port. `reset()` restores the state it started in, faults included. */
export interface RunningSimulator {
  vendor: VendorName;
  /** What goes in an account's baseUrl: http://host:port/v2/ for LeadSquared, http://host:port/api/v1 for SmartLead. */
  baseUrl: string;
  /** Admin endpoints: GET report, leads, activities; POST faults, reset. */
  adminUrl: string;
  report(options?: ReportOptions): SimulatorReport;
  /** Rows of `kind` by key, each with the indices in `report().requests` of the requests that wrote it, in order. */
  rowWrites(kind: WriteKind): Map<string, number[]>;
  setFaults(faults: FaultOptions): void;
  reset(): void;
  stop(): Promise<void>;
}
