import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { workflowBundle } from '../helpers/sync-harness.js';

const HISTORIES = join(import.meta.dirname, '..', 'fixtures', 'histories');

/** An event of a history as `temporal workflow show --output json` writes it: only the fields asserted on. */
interface HistoryEvent {
  eventId: string;
  eventType: string;
  activityTaskStartedEventAttributes?: { lastFailure?: Failure; attempt?: number };
  activityTaskCompletedEventAttributes?: { startedEventId?: string; result?: { payloads?: { data?: string }[] } };
  activityTaskFailedEventAttributes?: { failure?: Failure };
  workflowExecutionFailedEventAttributes?: { failure?: Failure };
  workflowExecutionCompletedEventAttributes?: { result?: { payloads?: { data?: string }[] } };
  workflowExecutionSignaledEventAttributes?: { signalName?: string };
  workflowExecutionUpdateAcceptedEventAttributes?: { acceptedRequest?: { input?: { name?: string } } };
}
interface Failure {
  message?: string;
  applicationFailureInfo?: { type?: string };
}

async function eventsOf(file: string): Promise<HistoryEvent[]> {
  return (JSON.parse(await readFile(join(HISTORIES, file), 'utf8')) as { events: HistoryEvent[] }).events;
}

const has = (type: string) => (e: HistoryEvent) => e.eventType === `EVENT_TYPE_${type}`;

/** The workflow's result, from the JSON payload of its completion. */
function resultOf(events: HistoryEvent[]): unknown {
  const data = events.find(has('WORKFLOW_EXECUTION_COMPLETED'))?.workflowExecutionCompletedEventAttributes?.result
    ?.payloads?.[0]?.data;
  return data === undefined ? undefined : JSON.parse(Buffer.from(data, 'base64').toString('utf8'));
}

/** The chunk results of activities that completed at their first attempt. */
function firstAttemptResults(events: HistoryEvent[]): unknown[] {
  const attempts = new Map(events.map((e) => [e.eventId, e.activityTaskStartedEventAttributes?.attempt]));
  return events.flatMap((e) => {
    const completed = e.activityTaskCompletedEventAttributes;
    const data = completed?.result?.payloads?.[0]?.data;
    if (!completed || data === undefined || attempts.get(completed.startedEventId ?? '') !== 1) return [];
    return [JSON.parse(Buffer.from(data, 'base64').toString('utf8'))];
  });
}

/**
 * What each history of scripts/record-histories.ts was recorded to hold: a recording that loses one of them no longer
 * guards the path it was made for.
 */
const RECORDED: Record<string, (events: HistoryEvent[]) => void> = {
  'lead-sync-rate-limited-first-run-before-grants.json': (events) => {
    // A chunk whose call was refused for rate, retried whole by Temporal at the vendor's time.
    const retriedAfter = events.map(
      (e) => e.activityTaskStartedEventAttributes?.lastFailure?.applicationFailureInfo?.type,
    );
    expect(retriedAfter).toContain('RateLimited');
  },
  'lead-sync-rate-limited-first-run.json': (events) => {
    expect(
      events
        .filter(has('WORKFLOW_EXECUTION_SIGNALED'))
        .map((e) => e.workflowExecutionSignaledEventAttributes?.signalName),
    ).toContain('backoff');
    expect(events.at(-1)?.eventType).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
    // A call refused for rate sent again in place: its chunk completed at its first attempt, with a retry counted.
    expect(firstAttemptResults(events)).toContainEqual(expect.objectContaining({ retries: expect.any(Number) }));
    expect(firstAttemptResults(events).some((r) => (r as { retries: number }).retries > 0)).toBe(true);
  },
  'lead-sync-cancelled.json': (events) => {
    expect(events.some(has('WORKFLOW_EXECUTION_CANCEL_REQUESTED'))).toBe(true);
    expect(resultOf(events)).toMatchObject({ cancelled: true });
  },
  'account-governor-moved-then-continued.json': (events) => {
    const signals = events.map((e) => e.workflowExecutionSignaledEventAttributes?.signalName);
    expect(signals).toContain('move');
    expect(events.at(-1)?.eventType).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
  },
  'lead-sync-rate-limited-last-run.json': (events) => {
    // The bad email (the field check) and the phone another lead has (the vendor's refusal).
    expect(resultOf(events)).toMatchObject({ read: 600, accepted: 598, rejected: 2, cancelled: false });
  },
  'lead-sync-paused.json': (events) => {
    const updates = events.map((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name);
    expect(updates).toEqual(expect.arrayContaining(['pause', 'resume']));
    const failed = events.map((e) => e.activityTaskFailedEventAttributes?.failure?.applicationFailureInfo?.type);
    expect(failed).toContain('SyncPaused');
    expect(resultOf(events)).toMatchObject({ read: 300, accepted: 300, rejected: 0 });
  },
  'lead-sync-failed-key-revoked.json': (events) => {
    const failure = events.find(has('WORKFLOW_EXECUTION_FAILED'))?.workflowExecutionFailedEventAttributes?.failure;
    expect(failure?.message).toContain("LeadSquared account 'recorded'");
    expect(failure?.message).toContain("check the account's credentials");
    const failed = events.map((e) => e.activityTaskFailedEventAttributes?.failure?.applicationFailureInfo?.type);
    expect(failed).toContain('AuthError');
  },
  // Recorded before long chunks: a paused sync's chunks held slots ahead, which they gave back. Its chunks now hold
  // little ahead (the horizon of a normal priority), and a pause finds none to give back.
  'account-governor-served-paused-and-failed-before-long-chunks.json': (events) => {
    const signals = events.map((e) => e.workflowExecutionSignaledEventAttributes?.signalName);
    expect(signals).toContain('release');
  },
  'account-governor-served-paused-and-failed.json': (events) => {
    // A worker's reservations on every lane of the account, one update each round trip.
    const updates = events.map((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name);
    expect(updates).toContain('reserve-lanes');
  },
  'leads-then-activities.json': (events) => {
    expect(events.filter(has('CHILD_WORKFLOW_EXECUTION_COMPLETED'))).toHaveLength(2);
    expect(resultOf(events)).toMatchObject({ leads: { accepted: 10 }, activities: { accepted: 10 } });
  },
  'scheduled-sync.json': (events) => {
    expect(events.filter(has('CHILD_WORKFLOW_EXECUTION_COMPLETED'))).toHaveLength(1);
    expect(resultOf(events)).toMatchObject({ read: 10, accepted: 10 });
  },
};

/**
 * The id the history was recorded under: its file's name, less the `-before-<change>` of a history kept from before a
 * change. A workflow's children take ids derived from its own, so a replay under another id starts other children.
 */
function recordedWorkflowId(file: string): string {
  return basename(file, '.json').replace(/-before-[a-z-]+$/, '');
}

/**
 * Workflows change; running syncs and governors must replay through the change. Each recorded history (see
 * scripts/record-histories.ts) is replayed against today's workflow code: a non-deterministic change fails here.
 */
describe('recorded workflow histories', async () => {
  const files = (await readdir(HISTORIES)).filter((f) => f.endsWith('.json'));

  it('are there to replay', () => {
    expect(files).toEqual(
      expect.arrayContaining(['lead-sync.json', 'account-governor.json', ...Object.keys(RECORDED)]),
    );
  });

  it.each(Object.entries(RECORDED))('%s holds the path it was recorded for', async (file, holds) => {
    holds(await eventsOf(file));
  });

  it.each(files)(
    '%s replays deterministically on the current workflow code',
    async (file) => {
      const history: unknown = JSON.parse(await readFile(join(HISTORIES, file), 'utf8'));

      await expect(
        Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, recordedWorkflowId(file)),
      ).resolves.toBeUndefined();
    },
    60_000,
  );
});
