import type { LaneName } from '../core/plans.js';
import type { FaultInjector } from './faults.js';
import type { SimAnswer, SimRequest } from './json-server.js';
import { SENDER_HEADER, type Outcome, type RequestLog, type WrittenRow } from './request-log.js';
import type { LaneWindow, SlidingWindowLimiter, WindowUsage } from './sliding-window.js';

/** What an endpoint did with an admitted request. `outcome` defaults to 'ok'; `written`: the rows it handled. */
export interface EndpointAnswer {
  status: number;
  body: unknown;
  rows?: number;
  rowsRejected?: number;
  outcome?: Outcome;
  written?: readonly WrittenRow[];
}

/** One vendor endpoint: the lane it is recorded under, the lanes whose windows it spends from, and its handler. */
export interface Endpoint {
  lane: LaneName;
  spends: readonly string[];
  handle(request: SimRequest): EndpointAnswer;
}

export interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** A 500 without the vendor's envelope, as a proxy or load balancer in front of it answers. */
export const BARE_SERVER_ERROR = { status: 500, body: 'Internal Server Error' } as const;

/** How one vendor speaks: its routes, its credentials check and the envelopes of its refusals. */
export interface VendorProtocol {
  endpointFor(request: SimRequest): Endpoint | undefined;
  notFound(request: SimRequest): Answer;
  /** A refusal when the credentials are missing or wrong. */
  authenticate(request: SimRequest): Answer | undefined;
  /** A failure of the vendor's own, in the envelope the vendor wraps them in. */
  serverError(): Answer;
  rateLimited(refusal: { refusedBy: LaneWindow; retryAfterMs: number }, usage: WindowUsage[], nowMs: number): Answer;
  /** Headers every admitted answer carries (SmartLead's X-RateLimit-*). */
  quotaHeaders?(usage: WindowUsage[], nowMs: number): Record<string, string>;
}

/** The simulator's mutable parts, read anew for every request since reset() replaces them. */
export interface SimulationState {
  limiter(): SlidingWindowLimiter;
  faults: FaultInjector;
  log: RequestLog;
}

/**
 * Every request goes the same way: route (unknown: 404), credentials, early faults (a 500 enveloped or bare, a drop:
 * nothing written, no quota spent), the rate limit, the endpoint, then the late faults (the answer lost after the
 * write, a slow answer). Each request is recorded once, with the outcome the client was meant to see, the rows it
 * wrote, and, once the answer was sent, whether the client was still there to take it.
 */
export function answerVendorRequest(
  request: SimRequest,
  protocol: VendorProtocol,
  state: SimulationState,
  nowMs = Date.now(),
): SimAnswer {
  const endpoint = protocol.endpointFor(request);
  const named = request.headers[SENDER_HEADER];
  const sender = typeof named === 'string' ? { sender: named } : {};
  const record = (
    lane: LaneName,
    status: number,
    outcome: Outcome,
    rows = 0,
    rowsRejected = 0,
    written: readonly WrittenRow[] = [],
  ) =>
    state.log.add(
      { at: nowMs, method: request.method, path: request.url.pathname, lane, status, outcome, rows, ...sender },
      rowsRejected,
      written,
    );
  if (!endpoint) {
    const answer = protocol.notFound(request);
    record('general', answer.status, 'not-found');
    return answer;
  }
  const refusal = protocol.authenticate(request);
  if (refusal) {
    record(endpoint.lane, refusal.status, 'auth');
    return refusal;
  }
  const early = state.faults.beforeHandling();
  if (early === 'drop') {
    record(endpoint.lane, 0, 'fault-drop');
    return { drop: true };
  }
  if (early === 'error' || early === 'bare-error') {
    const answer = early === 'error' ? protocol.serverError() : BARE_SERVER_ERROR;
    record(endpoint.lane, answer.status, 'fault-500');
    return answer;
  }
  const limiter = state.limiter();
  const admission = limiter.tryAdmit(endpoint.spends, nowMs);
  const usage = limiter.usage(endpoint.spends, nowMs);
  if (!admission.admitted) {
    const answer = protocol.rateLimited(admission, usage, nowMs);
    record(endpoint.lane, answer.status, 'rate-limited');
    return answer;
  }
  const result = endpoint.handle(request);
  const rows = result.rows ?? 0;
  if (state.faults.loseResponse()) {
    record(endpoint.lane, 0, 'fault-lost-response', rows, result.rowsRejected, result.written);
    return { drop: true };
  }
  const index = record(endpoint.lane, result.status, result.outcome ?? 'ok', rows, result.rowsRejected, result.written);
  return {
    status: result.status,
    body: result.body,
    headers: protocol.quotaHeaders?.(usage, nowMs),
    delayMs: state.faults.delayMs(),
    sent: (delivered) => {
      if (!delivered) state.log.markUndelivered(index);
    },
  };
}
