import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { pauseSync, resumeSync, startSync, type SyncHandle } from '../../src/api/syncs.js';
import type { ChunkTask, Records, StoppedChunk } from '../../src/core/contract.js';
import { FailureType } from '../../src/core/failures.js';
import type { leadsThenActivities } from '../../workflows/leads-then-activities.js';
import {
  LEAD_HEADER,
  csvLines,
  leadRows,
  leadSquaredSyncFixture,
  writeCsv,
  type LeadSquaredSyncFixture,
} from '../helpers/sync-harness.js';
import { eventually } from '../helpers/run-cli.js';
// The worker runs in this process: its requests name the chunk activity that sent them.
import '../helpers/tag-senders.js';
import { uniqueName } from '../helpers/temporal.js';
import { LEADSQUARED_PLANS } from '../../src/vendors/leadsquared/plans.js';
import { LOADED_MACHINE_TOLERANCE, vendorWindows } from '../helpers/vendor-windows.js';
import { auditWrites, onceEach } from '../helpers/write-counts.js';
import type { RequestRecord } from '../../src/simulation/request-log.js';

const ACTIVITY_HEADER = ['EmailAddress', 'ActivityEvent', 'ActivityNote', 'ActivityDateTime', 'mx_Custom_1'];

/** Starts a sync of a CSV file's rows, of one kind, into the fixture's account. */
function startFrom(fixture: LeadSquaredSyncFixture, file: string, records: Records): Promise<SyncHandle> {
  return startSync(
    fixture.client,
    { account: fixture.setup.accountName, source: { kind: 'csv', path: file }, records },
    { taskQueue: fixture.setup.taskQueue },
  );
}

/**
 * Lands `leads` new leads with a leads sync, and writes a file of `perLead` activities of each (`line` makes the nth
 * activity of the ith lead, both from 1): returns the activities file.
 */
async function landedLeadsWithActivities(
  fixture: LeadSquaredSyncFixture,
  name: string,
  { leads: count, perLead }: { leads: number; perLead: number },
  line: (email: string, lead: number, n: number) => string,
): Promise<string> {
  const leads = leadRows(count);
  const leadsFile = await writeCsv(fixture.setup.directory, `${name}-leads.csv`, LEAD_HEADER, csvLines(leads));
  await (await startFrom(fixture, leadsFile, 'leads')).result();
  const lines = leads.flatMap((lead, i) =>
    Array.from({ length: perLead }, (_, n) => line(lead.EmailAddress, i + 1, n + 1)),
  );
  return writeCsv(fixture.setup.directory, `${name}-activities.csv`, ACTIVITY_HEADER, lines);
}

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

describe('leads, then their activities, into LeadSquared in one workflow', () => {
  const fixture = leadSquaredSyncFixture({ plan: 'enterprise' });

  it('posts every good activity once, on the bulk lane and as singles, and rejects the rest with reasons', async () => {
    const leads = leadRows(30);
    const leadsFile = await writeCsv(fixture.setup.directory, 'leads.csv', LEAD_HEADER, csvLines(leads));
    // Three activities per lead, then an unknown lead, a bad event code and a bad time.
    const good = leads.flatMap((lead, i) =>
      [1, 2, 3].map((n) => `${lead.EmailAddress},201,call ${i + 1}.${n},2024-05-0${n} 10:00:00,outcome ${n}`),
    );
    const lines = [
      ...good,
      'nobody@example.com,201,lost,2024-05-01 10:00:00,x',
      `${leads[0]!.EmailAddress},call,bad code,2024-05-01 10:00:00,x`,
      `${leads[1]!.EmailAddress},201,bad time,yesterday,x`,
    ];
    const activitiesFile = await writeCsv(fixture.setup.directory, 'activities.csv', ACTIVITY_HEADER, lines);

    const handle = await fixture.client.workflow.start<typeof leadsThenActivities>('leadsThenActivities', {
      taskQueue: fixture.setup.taskQueue,
      workflowId: uniqueName('leads-then-activities'),
      args: [
        { account: fixture.setup.accountName, source: { kind: 'csv', path: leadsFile } },
        { account: fixture.setup.accountName, source: { kind: 'csv', path: activitiesFile } },
      ],
    });
    const result = await handle.result();

    expect(result.leads).toMatchObject({ read: 30, accepted: 30, rejected: 0 });
    expect(result.activities).toMatchObject({ read: 93, accepted: 90, rejected: 3 });
    const posted = fixture.setup.simulator.activities();
    expect(posted).toHaveLength(90);
    expect(new Set(posted.map((a) => a.note)).size).toBe(90);
    expect(posted.every((a) => a.event === 201 && a.fields.mx_Custom_1?.startsWith('outcome'))).toBe(true);
    expect(posted.find((a) => a.note === 'call 1.2')).toMatchObject({
      email: leads[0]!.EmailAddress.toLowerCase(),
      dateTime: '2024-05-02 10:00:00',
    });
    const report = fixture.setup.simulator.report({ requests: true });
    expect(report.duplicates).toBe(0);
    // Each lead and each activity sent once (the one on an unknown lead is refused by the vendor or before it).
    expect(auditWrites(fixture.setup.simulator).times).toEqual(onceEach(leads.map((lead) => lead.EmailAddress)));
    const activities = auditWrites(fixture.setup.simulator, 'activity');
    expect(activities.resent).toBe(0);
    expect([...activities.times.keys()].filter((key) => !key.includes('nobody@'))).toHaveLength(90);
    const paths = report.requests.map((r) => r.path);
    expect(paths.some((p) => p.endsWith('ProspectActivity.svc/Bulk/CustomActivity/Add/ByLeadField'))).toBe(true);
    expect(paths.some((p) => p.endsWith('ProspectActivity.svc/Create'))).toBe(true);
    // Lookups, single posts and bulk calls, every request the vendor received in each 5 s window, refused ones included.
    const windows = vendorWindows(report.requests, LEADSQUARED_PLANS.enterprise!.lanes);
    console.info(`leads, then activities: ${windows.summary}`);
    expect(windows.over, windows.summary).toBeLessThanOrEqual(LOADED_MACHINE_TOLERANCE.overLimit);
    expect(windows.rateLimited, windows.summary).toBeLessThanOrEqual(LOADED_MACHINE_TOLERANCE.rateLimited);

    const rejects = (await readFile(result.activities!.rejectsFile!, 'utf8')).trim().split('\n').slice(1);
    expect(rejects).toHaveLength(3);
    expect(rejects[0]).toMatch(/^91,EmailAddress,.*nobody@example\.com/);
    expect(rejects[1]).toMatch(/^92,ActivityEvent,'call' is not/);
    expect(rejects[2]).toMatch(/^93,ActivityDateTime,'yesterday' is not a date/);
  }, 180_000);

  it('posts each activity once when the vendor loses the answers of writes that landed', async () => {
    fixture.setup.simulator.reset();
    // Few leads with many activities each: a retried chunk reads the activities of the leads it holds, a call each.
    const activitiesFile = await landedLeadsWithActivities(
      fixture,
      'lost',
      { leads: 4, perLead: 15 },
      (email, i, n) => `${email},202,visit ${i}.${n},2024-06-01 09:${10 + n}:00,room ${n}`,
    );

    // A third of the answers vanish after the vendor acted: such a chunk is retried without knowing what landed.
    fixture.setup.simulator.setFaults({ lostResponseRate: 0.3, seed: 7 });
    const result = await (await startFrom(fixture, activitiesFile, 'activities')).result();

    const report = fixture.setup.simulator.report({ requests: false });
    expect(report.totals.faults).toBeGreaterThan(0);
    expect(result).toMatchObject({ read: 60, accepted: 60, rejected: 0 });
    expect(result.retried).toBeGreaterThan(0);
    expect(fixture.setup.simulator.activities()).toHaveLength(60);
    expect(report.duplicates).toBe(0);
    // A retried chunk reads what landed before posting: not one activity is sent twice, lost answers or not.
    const activities = auditWrites(fixture.setup.simulator, 'activity');
    expect({ resent: activities.resent, sent: activities.times.size }).toEqual({ resent: 0, sent: 60 });
  }, 240_000);
});

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
    // Chunks waiting for their slots were stopped too, before any call of theirs went out.
    expect(stopped.map((chunk) => chunk.stopped!.sent)).toContain(false);

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
