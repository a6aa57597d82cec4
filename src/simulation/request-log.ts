import type { LaneName } from '../core/plans.js';

/** What became of one request, as a test or a benchmark counts it. */
export const OUTCOMES = [
  'ok',
  'rate-limited',
  /** A single-row write the vendor refused for the row's sake (a bulk call with refused rows is still 'ok'). */
  'rejected',
  'auth',
  /** The whole request was malformed or over the vendor's size limit. */
  'invalid',
  'fault-500',
  'fault-drop',
  /** The write was performed, then the connection dropped before any answer. */
  'fault-lost-response',
  'not-found',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

const LANES: readonly LaneName[] = ['general', 'bulk'];

/**
 * The header a test's worker names itself in (which process, which try of which chunk), so the log can tell a resend
 * that follows a killed worker from one a worker made twice. Never sent by leadsync itself.
 */
export const SENDER_HEADER = 'x-simulator-sender';

/** What a written row is: SmartLead has leads only; LeadSquared leads and activities. */
export const WRITE_KINDS = ['lead', 'activity'] as const;
export type WriteKind = (typeof WRITE_KINDS)[number];

/**
 * A row a request handled: stored, or refused for the row's own sake (a bad email, a unique value another lead
 * holds, a lead already in the campaign). A request refused whole (a rate limit, a fault before handling, an
 * over-size or malformed body) wrote no row. `key` names the row as a resend of it would name it again: a lead's
 * email, an activity's lead, event, note, time and fields.
 */
export interface WrittenRow {
  kind: WriteKind;
  key: string;
}

/**
 * One request as the simulator saw it. `path` never carries the query string (SmartLead's key travels there);
 * `rows` is how many rows this request stored; `status` is 0 when no answer was sent.
 */
export interface RequestRecord {
  at: number;
  method: string;
  path: string;
  lane: LaneName;
  status: number;
  outcome: Outcome;
  rows: number;
  /** What the sender named itself in SENDER_HEADER, when it did. */
  sender?: string;
  /** The answer was ready, but its client had gone (timed out, or its process died) before it could be sent. */
  undelivered?: true;
}

export interface RequestTotals {
  requests: number;
  rateLimited: number;
  /** Injected faults of every kind: 500s, drops, lost responses. */
  faults: number;
  rowsAccepted: number;
  rowsRejected: number;
}

const INITIAL_CAPACITY = 1024;

/**
 * Every request, kept in columns of typed arrays: a million-row benchmark makes hundreds of thousands of
 * requests, and one object each would cost far more memory and garbage collection than a few bytes a column.
 * Method and path are interned, since a simulator serves a handful of distinct ones, and so are the names senders give.
 */
export class RequestLog {
  private at = new Float64Array(INITIAL_CAPACITY);
  private status = new Uint16Array(INITIAL_CAPACITY);
  private outcome = new Uint8Array(INITIAL_CAPACITY);
  private lane = new Uint8Array(INITIAL_CAPACITY);
  private route = new Uint32Array(INITIAL_CAPACITY);
  private rows = new Uint32Array(INITIAL_CAPACITY);
  /** 0 when the request named no sender, else 1 + the sender's index in `senders`. */
  private sender = new Uint32Array(INITIAL_CAPACITY);
  private undelivered = new Uint8Array(INITIAL_CAPACITY);
  private length = 0;
  private readonly routes: { method: string; path: string }[] = [];
  private readonly routeIds = new Map<string, number>();
  private readonly senders = new Interned();
  private counts: RequestTotals = emptyTotals();
  /**
   * Every row written, in columns: its kind, its key and the request that wrote it. Grouped by key only when asked: a
   * map of a million keys kept up to date would stall the simulator each time it rehashes (see ShardedMap).
   */
  private writtenKind = new Uint8Array(INITIAL_CAPACITY);
  private writtenKey: string[] = [];
  private writtenBy = new Uint32Array(INITIAL_CAPACITY);

  /** Records a request and the rows it wrote; returns its index in records(). */
  add(record: RequestRecord, rowsRejected = 0, written: readonly WrittenRow[] = []): number {
    if (this.length === this.at.length) this.grow();
    const i = this.length;
    this.at[i] = record.at;
    this.status[i] = record.status;
    this.outcome[i] = OUTCOMES.indexOf(record.outcome);
    this.lane[i] = LANES.indexOf(record.lane);
    this.route[i] = this.routeId(record.method, record.path);
    this.rows[i] = record.rows;
    this.sender[i] = record.sender === undefined ? 0 : this.senders.id(record.sender) + 1;
    this.undelivered[i] = record.undelivered ? 1 : 0;
    this.length += 1;
    this.counts.requests += 1;
    if (record.outcome === 'rate-limited') this.counts.rateLimited += 1;
    if (record.outcome.startsWith('fault-')) this.counts.faults += 1;
    this.counts.rowsAccepted += record.rows;
    this.counts.rowsRejected += rowsRejected;
    for (const row of written) this.addWrite(row, i);
    return i;
  }

  /** The answer to request `index` never reached its client, who had gone by the time it was sent. */
  markUndelivered(index: number): void {
    if (index < this.length) this.undelivered[index] = 1;
  }

  /**
   * Rows of `kind` by key, each with the indices in records() of the requests that wrote it, oldest first: a row
   * written once has one. Resends of a row the vendor stores once (an upsert by email, a lead SmartLead dedupes) show
   * here and nowhere else.
   */
  rowWrites(kind: WriteKind): Map<string, number[]> {
    const byKey = new Map<string, number[]>();
    const wanted = WRITE_KINDS.indexOf(kind);
    for (let w = 0; w < this.writtenKey.length; w += 1) {
      if (this.writtenKind[w] !== wanted) continue;
      const key = this.writtenKey[w]!;
      const requests = byKey.get(key);
      if (requests) requests.push(this.writtenBy[w]!);
      else byKey.set(key, [this.writtenBy[w]!]);
    }
    return byKey;
  }

  totals(): RequestTotals {
    return { ...this.counts };
  }

  records(): RequestRecord[] {
    const records: RequestRecord[] = new Array<RequestRecord>(this.length);
    for (let i = 0; i < this.length; i += 1) {
      const route = this.routes[this.route[i]!]!;
      records[i] = {
        at: this.at[i]!,
        method: route.method,
        path: route.path,
        lane: LANES[this.lane[i]!]!,
        status: this.status[i]!,
        outcome: OUTCOMES[this.outcome[i]!]!,
        rows: this.rows[i]!,
        ...(this.sender[i] ? { sender: this.senders.name(this.sender[i]! - 1) } : {}),
        ...(this.undelivered[i] ? { undelivered: true as const } : {}),
      };
    }
    return records;
  }

  clear(): void {
    this.length = 0;
    this.writtenKey = [];
    this.senders.clear();
    this.counts = emptyTotals();
  }

  private addWrite(row: WrittenRow, request: number): void {
    const w = this.writtenKey.length;
    if (w === this.writtenBy.length) {
      const capacity = this.writtenBy.length * 2;
      this.writtenKind = copyInto(new Uint8Array(capacity), this.writtenKind);
      this.writtenBy = copyInto(new Uint32Array(capacity), this.writtenBy);
    }
    this.writtenKind[w] = WRITE_KINDS.indexOf(row.kind);
    this.writtenKey.push(row.key);
    this.writtenBy[w] = request;
  }

  private routeId(method: string, path: string): number {
    const key = `${method} ${path}`;
    let id = this.routeIds.get(key);
    if (id === undefined) {
      id = this.routes.push({ method, path }) - 1;
      this.routeIds.set(key, id);
    }
    return id;
  }

  private grow(): void {
    const capacity = this.at.length * 2;
    this.at = copyInto(new Float64Array(capacity), this.at);
    this.status = copyInto(new Uint16Array(capacity), this.status);
    this.outcome = copyInto(new Uint8Array(capacity), this.outcome);
    this.lane = copyInto(new Uint8Array(capacity), this.lane);
    this.route = copyInto(new Uint32Array(capacity), this.route);
    this.rows = copyInto(new Uint32Array(capacity), this.rows);
    this.sender = copyInto(new Uint32Array(capacity), this.sender);
    this.undelivered = copyInto(new Uint8Array(capacity), this.undelivered);
  }
}

/** Strings by a small number each, for columns of typed arrays. */
class Interned {
  private readonly names: string[] = [];
  private readonly ids = new Map<string, number>();

  id(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.push(name) - 1;
      this.ids.set(name, id);
    }
    return id;
  }

  name(id: number): string {
    return this.names[id]!;
  }

  clear(): void {
    this.names.length = 0;
    this.ids.clear();
  }
}

function copyInto<T extends Float64Array | Uint32Array | Uint16Array | Uint8Array>(target: T, source: T): T {
  target.set(source);
  return target;
}

function emptyTotals(): RequestTotals {
  return { requests: 0, rateLimited: 0, faults: 0, rowsAccepted: 0, rowsRejected: 0 };
}

/** Outcomes of requests the rate limiter admitted: only these spend from a window. */
const ADMITTED: ReadonlySet<Outcome> = new Set(['ok', 'rejected', 'invalid', 'fault-lost-response']);

export function spentQuota(record: RequestRecord): boolean {
  return ADMITTED.has(record.outcome);
}

/** The busiest sliding span of some requests: how many it holds, and when the first and the last of them came. */
export interface BusiestWindow {
  requests: number;
  from: number;
  to: number;
}

/**
 * The `seconds`-long sliding span holding the most requests matching `counts` (undefined when none matches): what a
 * vendor enforcing that window would have seen at its fullest. A request exactly `seconds` older than another has
 * left the window by then, as in the simulator's own limiter.
 */
export function busiestWindow(
  records: readonly RequestRecord[],
  seconds: number,
  counts: (record: RequestRecord) => boolean = spentQuota,
): BusiestWindow | undefined {
  const times = records
    .filter(counts)
    .map((r) => r.at)
    .sort((a, b) => a - b);
  const ms = seconds * 1000;
  let busiest: BusiestWindow | undefined;
  let first = 0;
  for (let last = 0; last < times.length; last += 1) {
    while (times[first]! <= times[last]! - ms) first += 1;
    const requests = last - first + 1;
    if (!busiest || requests > busiest.requests) busiest = { requests, from: times[first]!, to: times[last]! };
  }
  return busiest;
}

/**
 * The most requests matching `counts` found in any `seconds`-long sliding span, so a benchmark can show a lane ran
 * at, and never over, its ceiling.
 */
export function peakPerWindow(
  records: readonly RequestRecord[],
  seconds: number,
  counts: (record: RequestRecord) => boolean = spentQuota,
): number {
  return busiestWindow(records, seconds, counts)?.requests ?? 0;
}

/** Rows the vendor accepted in [from, to), per second: a sync's landed rate as the vendor saw it. */
export function landedRowsPerSecond(records: readonly RequestRecord[], from: number, to: number): number {
  const rows = records.filter((r) => r.outcome === 'ok' && r.at >= from && r.at < to).reduce((n, r) => n + r.rows, 0);
  return rows / ((to - from) / 1000);
}
