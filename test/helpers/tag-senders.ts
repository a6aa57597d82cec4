import { fileURLToPath } from 'node:url';
import { Context } from '@temporalio/activity';
import { SENDER_HEADER } from '../../src/simulation/request-log.js';
import { senderName } from './write-counts.js';

/**
 * Imported for its effect, in a test's process, or through TAG_SENDERS_PRELOAD in a worker process a test starts:
 * every vendor request an activity makes names, in SENDER_HEADER, the worker process and the activity's try, so the
 * simulator's log can tell the resends of a retried chunk from a write made twice (write-counts.ts). leadsync calls the
 * global fetch unless given one, and a test's own fetch calls it too; requests made outside an activity go unchanged.
 */
export const TAG_SENDERS_PRELOAD = fileURLToPath(new URL('./tag-senders-preload.mjs', import.meta.url));

const TAGGED = Symbol.for('leadsync.test.tagSenders');
const global = globalThis as typeof globalThis & { [TAGGED]?: true };

if (!global[TAGGED]) {
  global[TAGGED] = true;
  const untagged = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    const sender = currentSender();
    if (sender === undefined) return untagged(input, init);
    const headers = new Headers(init?.headers);
    headers.set(SENDER_HEADER, sender);
    return untagged(input, { ...init, headers });
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
