import { describe, expect, it } from 'vitest';
import { pauseSync, resumeSync, type SyncHandle } from '../../src/api/syncs.js';
import type { ChunkTask, StoppedChunk } from '../../src/core/contract.js';
import { FailureType } from '../../src/core/failures.js';
import { landedLeadsWithActivities, startFrom } from '../helpers/activities-harness.js';
import { leadSquaredSyncFixture } from '../helpers/sync-harness.js';
import { eventually } from '../helpers/run-cli.js';
// The worker runs in this process: its requests name the chunk activity that sent them.
import '../helpers/tag-senders.js';
import { auditWrites } from '../helpers/write-counts.js';
import type { RequestRecord } from '../../src/simulation/request-log.js';

/** An activity posted alone (ProspectActivity.svc/Create) that the vendor stored. */
function postedSingle(request: RequestRecord): boolean {
  return request.path.endsWith('ProspectActivity.svc/Create') && request.outcome === 'ok';
}

/** The JSON value a history event carries (the test worker's payloads are plain JSON). */
function valueOf(payloads: { payloads?: { data?: Uint8Array | null }[] | null } | null | undefined): unknown {
  const data = payloads?.payloads?.[0]?.data;
  return data ? JSON.parse(Buffer.from(data).toString('utf8')) : undefined;
}

/** A chunk activity the sync scheduled: what it was told, and what it said when the pause stopped it. */
interface ChunkActivity {
  activityId: string;
  firstRow: number;
  sentBefore: boolean;
  stopped?: StoppedChunk;
}

async function chunkActivities(handle: SyncHandle): Promise<ChunkActivity[]> {
  const events = (await handle.fetchHistory()).events ?? [];
  const stopped = new Map<string, StoppedChunk>();
  for (const event of events) {
    const failed = event.activityTaskFailedEventAttributes;
    const info = failed?.failure?.applicationFailureInfo;
    if (info?.type === FailureType.syncPaused) {
      stopped.set(String(failed!.scheduledEventId), valueOf(info.details) as StoppedChunk);
    }
  }
  return events.flatMap((event) => {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled?.activityType?.name !== 'pushChunk') return [];
    const task = valueOf(scheduled.input) as ChunkTask;
    const stop = stopped.get(String(event.eventId));
    return [
      {
        activityId: scheduled.activityId!,
        firstRow: task.chunk.firstRow,
        sentBefore: task.sentBefore === true,
        ...(stop ? { stopped: stop } : {}),
      },
    ];
  });
}

/** The chunk activity (`<run id>/<activity id>`) a request was sent by (test/helpers/tag-senders.ts). */
function sentBy(request: RequestRecord): string | undefined {
  return request.sender === undefined ? undefined : (JSON.parse(request.sender) as [number, string, number])[1];
}

describe('activities into LeadSquared, paused and resumed', () => {
  // Single posts two a second: a general chunk (ten calls) takes five seconds to send.
  const fixture = leadSquaredSyncFixture({
    plan: 'enterprise',
    account: { lanes: { general: { windows: [{ limit: 2, seconds: 1 }] } } },
  });

  it('posts each activity once when the sync is paused while a chunk is part posted, and resumed', async () => {
    const activitiesFile = await landedLeadsWithActivities(
      fixture,
      'paused',
      { leads: 6, perLead: 10 },
      (email, i, n) => `${email},203,meeting ${i}.${n},2024-07-01 10:${10 + n}:00,agenda ${n}`,
    );
    const handle = await startFrom(fixture, activitiesFile, 'activities');

    // A general chunk's ten single posts go two a second: once the first has landed, a pause (seen within a second)
    // stops the chunk part posted, and the chunks waiting behind it before any call of theirs.
    const requests = () => fixture.setup.simulator.report({ requests: true }).requests;
    await eventually(
      async () => requests().filter(postedSingle).length,
      (posted) => posted > 0,
      { intervalMs: 20 },
    );
    await pauseSync(handle);
    await eventually(
      async () => (await handle.describe()).raw.pendingActivities?.length ?? 0,
      (chunks) => chunks === 0,
    );
    const stopped = (await chunkActivities(handle)).filter((chunk) => chunk.stopped);
    const postedByStopped = requests().filter(
      (r) => postedSingle(r) && stopped.some((chunk) => sentBy(r)?.endsWith(`/${chunk.activityId}`)),
    );
    expect(postedByStopped.length).toBeGreaterThan(0);
    // Both chunks of 15 s a lane keeps in flight start together and take turns at the slots, so both have sent calls
    // (lookups) when the first post lands; a chunk stopped before any call, which says so, is pause.test.ts's first case.
    expect(stopped.map((chunk) => chunk.stopped!.sent)).toContain(true);

    await resumeSync(handle);
    const result = await handle.result();

    expect(result).toMatchObject({ read: 60, accepted: 60, rejected: 0 });
    expect(fixture.setup.simulator.activities()).toHaveLength(60);
    // The stopped chunk runs again as a new activity, and reads what its leads already have before posting.
    const activities = auditWrites(fixture.setup.simulator, 'activity');
    expect(activities.duplicates).toEqual([]);
    expect({ resent: activities.resent, sent: activities.times.size }).toEqual({ resent: 0, sent: 60 });
    // Only a chunk that had sent calls pays for the reads: one stopped before any runs again as it first would have.
    const again = (await chunkActivities(handle)).filter(
      (chunk) => !chunk.stopped && stopped.some((s) => s.firstRow === chunk.firstRow),
    );
    const byRow = (a: { firstRow: number }, b: { firstRow: number }) => a.firstRow - b.firstRow;
    expect(again.sort(byRow).map((chunk) => [chunk.firstRow, chunk.sentBefore])).toEqual(
      stopped.sort(byRow).map((chunk) => [chunk.firstRow, chunk.stopped!.sent]),
    );
  }, 240_000);
});
