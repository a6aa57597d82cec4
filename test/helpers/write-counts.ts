import type { RequestRecord, WriteKind } from '../../src/simulation/request-log.js';

/**
 * The one definition of "written once" every test and the chaos suite use: rows counted from the simulator's record
 * of the requests that wrote them (src/simulation/request-log.ts), not from its stores, which keep a lead once however
 * often it was sent.
 *
 * A row is written again without fault only when the writer could not know its first write landed. Each write beyond
 * a row's first must follow a write of it that
 * - never had its answer reach the worker: lost after the write, or ready after the worker had gone (a timeout, a
 *   dead process), as the simulator saw it; or
 * - came from an earlier try of the same chunk activity, cut short by the death of its worker process or by a Temporal
 *   server restart: the chunk's next try sends its rows again. The tries are told apart by the name each worker gives
 *   its requests (test/helpers/tag-senders.ts).
 * Anything else is a duplicate: a write the worker heard answered and still made again. Each write explains at most
 * the one after it, so a lost answer allows one resend, not two.
 */

/** Who sent a vendor request: the worker process, and the chunk activity's try it made it in. */
export interface Sender {
  pid: number;
  /** The chunk activity, by its workflow run and activity id. */
  chunk: string;
  attempt: number;
}

export function senderName(sender: Sender): string {
  return JSON.stringify([sender.pid, sender.chunk, sender.attempt]);
}

function parseSender(name: string | undefined): Sender | undefined {
  if (name === undefined) return undefined;
  const [pid, chunk, attempt] = JSON.parse(name) as [number, string, number];
  return { pid, chunk, attempt };
}

/** What cut chunk tries short while the rows were written. */
export interface Disruptions {
  /** Worker processes that died (killed, or lost to a server restart), and when. */
  ended?: readonly { pid: number; at: number }[];
  /** Spans in which the Temporal server was stopped and starting again. */
  restarts?: readonly { from: number; to: number }[];
}

/** A simulator's requests and the rows each wrote. */
export interface WriteLog {
  report(): { requests: RequestRecord[] };
  rowWrites(kind: WriteKind): Map<string, number[]>;
}

export interface WriteAudit {
  /** How many requests wrote each row, by key (a lead's email, lower case; a SmartLead lead's campaignLeadKey). */
  times: Map<string, number>;
  /** Writes beyond each row's first. */
  resent: number;
  /**
   * Writes whose answer never reached the worker. The worker sends each such row again (it cannot know it landed), so
   * where nothing else forces a resend, `resent` is exactly this.
   */
  unanswered: number;
  /** Writes beyond a row's first that nothing above explains, each with the write before it. */
  duplicates: { key: string; before: string; again: string }[];
}

export function auditWrites(log: WriteLog, kind: WriteKind = 'lead', disruptions: Disruptions = {}): WriteAudit {
  const requests = log.report().requests;
  const tries = triesOf(requests);
  const disrupted = (disruptions.ended?.length ?? 0) + (disruptions.restarts?.length ?? 0) > 0;
  if (disrupted && tries.size === 0) {
    throw new Error('no request names its sender: load test/helpers/tag-senders.ts where the workers run');
  }
  const times = new Map<string, number>();
  const duplicates: WriteAudit['duplicates'] = [];
  let resent = 0;
  let unanswered = 0;
  for (const [key, indices] of log.rowWrites(kind)) {
    times.set(key, indices.length);
    resent += indices.length - 1;
    unanswered += indices.filter((index) => !answered(requests[index]!)).length;
    for (let i = 1; i < indices.length; i++) {
      const before = requests[indices[i - 1]!]!;
      const again = requests[indices[i]!]!;
      if (!explained(before, again, tries, disruptions)) {
        duplicates.push({ key, before: describe(before), again: describe(again) });
      }
    }
  }
  return { times, resent, unanswered, duplicates };
}

/** Each key written once: what `times` is when nothing was sent twice. */
export function onceEach(keys: Iterable<string>): Map<string, number> {
  return new Map([...keys].map((key) => [key.toLowerCase(), 1]));
}

/** When each try of each chunk sent its first request. */
type Tries = Map<string, number>;

function triesOf(requests: readonly RequestRecord[]): Tries {
  const tries: Tries = new Map();
  for (const request of requests) {
    const sender = parseSender(request.sender);
    if (!sender) continue;
    const id = tryId(sender);
    tries.set(id, Math.min(tries.get(id) ?? Infinity, request.at));
  }
  return tries;
}

function tryId(sender: Sender): string {
  return `${sender.chunk}#${sender.attempt}`;
}

function answered(request: RequestRecord): boolean {
  return request.outcome !== 'fault-lost-response' && !request.undelivered;
}

function explained(before: RequestRecord, again: RequestRecord, tries: Tries, disruptions: Disruptions): boolean {
  if (!answered(before)) return true;
  const [first, second] = [parseSender(before.sender), parseSender(again.sender)];
  if (!first || !second || first.chunk !== second.chunk || first.attempt === second.attempt) return false;
  const [cut, next] = first.attempt < second.attempt ? [first, second] : [second, first];
  const cutStart = tries.get(tryId(cut))!;
  const nextStart = tries.get(tryId(next))!;
  // Whatever its process sent came before it died, though the simulator may read it a moment after the death was seen.
  const died = (disruptions.ended ?? []).some((end) => end.pid === cut.pid && end.at <= nextStart);
  // A try under way when the server went down may be retried, and may even go on writing beside its retry until its
  // heartbeat tells it it was given up.
  const restarted = (disruptions.restarts ?? []).some((r) => cutStart <= r.to && nextStart >= r.from);
  return died || restarted;
}

function describe(request: RequestRecord): string {
  const sender = parseSender(request.sender);
  const by = sender ? ` by pid ${sender.pid}, ${sender.chunk} try ${sender.attempt}` : '';
  return `${request.method} ${request.path} at ${new Date(request.at).toISOString()}${by}: ${request.outcome}`;
}
