import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** One exchange as requestJson (http.ts) hands it to the wire: the URL, headers and body it built. */
export interface TransportRequest {
  method: HttpMethod;
  url: URL;
  headers: Record<string, string>;
  body?: string;
  /** Aborted at the deadline or the size limit: the exchange ends and its connection is closed, answer begun or not. */
  signal: AbortSignal;
}

/** An answer as it begins: status and headers, and the body's bytes as they arrive (a Response fits). */
export interface TransportAnswer {
  status: number;
  headers: Headers;
  body: AsyncIterable<Uint8Array> | null;
}

/**
 * Sends one exchange and resolves when the answer's head arrives; a connection that fails rejects with the error
 * Node gives (its `code` says why), a redirect is returned as it is, never followed. requestJson does the rest: the
 * deadline, the size limit, redaction and classification, whatever the transport.
 */
export type Transport = (request: TransportRequest) => Promise<TransportAnswer>;

/**
 * How long an idle connection to a vendor is kept when the vendor does not say: longer than a lane's calls are apart
 * (once per 5-s window at LeadSquared, spread over a minute at SmartLead), shorter than the 60-s idle timeout of
 * common load balancers (AWS's Application Load Balancer), so that leadsync lets go first. A server that announces
 * its own (`Keep-Alive: timeout=N`) is believed when shorter: node's agent then keeps the connection N - 1 s, so a call
 * is not sent on a socket the server is closing (its POST would be reset, and the answer lost).
 */
export const IDLE_CONNECTION_MS = 55_000;

/**
 * Connections per vendor origin (host and port), busy or idle; calls beyond them wait in the agent for one to free,
 * within their deadline. Every account on one vendor shares its origin: at a few calls a second per account and some
 * hundred milliseconds an answer, 256 serves a process of about a hundred accounts at their ceilings.
 */
export const MAX_CONNECTIONS_PER_ORIGIN = 256;

/**
 * The agents every vendor call of the process goes through, so that accounts on one origin share connections.
 * node:http(s) rather than fetch (undici inside Node) or the undici package: measured on one machine, a call on a kept
 * connection costs about 0.3 ms of CPU through node:http and node:https, 0.23 ms through undici's `request` (a
 * dependency), 0.65-1.0 ms through fetch; a new TLS connection about 2-2.5 ms whichever client. node:http is within
 * 0.1 ms of the cheapest, needs no dependency, and its agent reads the server's keep-alive hint.
 * Idle sockets are unreferenced by the agent: they do not keep a stopping worker alive, so nothing closes them.
 */
const agentOptions = {
  keepAlive: true,
  // An idle socket's timeout; the agent lowers it to a server's hint less a second, and closes the socket at it.
  timeout: IDLE_CONNECTION_MS,
  maxSockets: MAX_CONNECTIONS_PER_ORIGIN,
  maxFreeSockets: MAX_CONNECTIONS_PER_ORIGIN,
  // The most recently used connection goes first, so a lane's calls stay on few connections and the rest time out.
  scheduling: 'lifo',
} as const;
const agents = { 'http:': new http.Agent(agentOptions), 'https:': new https.Agent(agentOptions) };

/**
 * The vendor transport: node:http(s) on the shared keep-alive agents. Aborting the signal destroys the request and
 * its socket, whether the answer has begun or not, so a connection left with unread bytes is never reused. No
 * compression is asked for, so the bytes read are the answer's own.
 */
export const keepAliveTransport: Transport = (request) =>
  new Promise((resolve, reject) => {
    const secure = request.url.protocol === 'https:';
    const headers: Record<string, string> = { ...request.headers };
    if (request.body !== undefined) headers['content-length'] = String(Buffer.byteLength(request.body));
    const sent = (secure ? https : http).request(
      request.url,
      { method: request.method, headers, agent: agents[secure ? 'https:' : 'http:'], signal: request.signal },
      (answer) => resolve({ status: answer.statusCode ?? 0, headers: headersOf(answer.headers), body: answer }),
    );
    sent.once('error', reject);
    sent.end(request.body);
  });

function headersOf(raw: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  return headers;
}
