import { Agent, type ClientRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Context } from '@temporalio/activity';
import { SENDER_HEADER } from '../../src/simulation/request-log.js';
import { senderName } from './write-counts.js';

/**
 * Imported for its effect, in a test's process, or through TAG_SENDERS_PRELOAD in a worker process a test starts:
 * every vendor request an activity makes names, in SENDER_HEADER, the worker process and the activity's try, so the
 * simulator's log can tell the resends of a retried chunk from a write made twice (write-counts.ts). leadsync's transport
 * sends through node:http(s) agents (https.Agent is an http.Agent), which take each request before its headers go out;
 * requests made outside an activity go unchanged.
 */
export const TAG_SENDERS_PRELOAD = fileURLToPath(new URL('./tag-senders-preload.mjs', import.meta.url));

const TAGGED = Symbol.for('leadsync.test.tagSenders');
const global = globalThis as typeof globalThis & { [TAGGED]?: true };

if (!global[TAGGED]) {
  global[TAGGED] = true;
  // addRequest is not in Node's typings, but every proxy agent overrides it: http.request hands it each request
  // synchronously (in the activity's context) with the headers still open.
  const agent = Agent.prototype as unknown as { addRequest(request: ClientRequest, ...rest: unknown[]): void };
  const untagged = agent.addRequest;
  agent.addRequest = function (this: Agent, request, ...rest) {
    const sender = currentSender();
    if (sender !== undefined) request.setHeader(SENDER_HEADER, sender);
    untagged.call(this, request, ...rest);
  };
}

function currentSender(): string | undefined {
  let info: Context['info'];
  try {
    info = Context.current().info;
  } catch {
    return undefined;
  }
  const chunk = `${info.workflowExecution?.runId ?? info.workflowType}/${info.activityId}`;
  return senderName({ pid: process.pid, chunk, attempt: info.attempt });
}
