import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { leadsThenActivities } from '../../workflows/leads-then-activities.js';
import { ACTIVITY_HEADER } from '../helpers/activities-harness.js';
import { LEAD_HEADER, csvLines, leadRows, leadSquaredSyncFixture, writeCsv } from '../helpers/sync-harness.js';
// The worker runs in this process: its requests name the chunk activity that sent them.
import '../helpers/tag-senders.js';
import { uniqueName } from '../helpers/temporal.js';
import { LEADSQUARED_PLANS } from '../../src/vendors/leadsquared/plans.js';
import { LOADED_MACHINE_TOLERANCE, vendorWindows } from '../helpers/vendor-windows.js';
import { auditWrites, onceEach } from '../helpers/write-counts.js';

// Counted in every 5 s window; activities whose answers are lost, and a paused activities sync, are in
// activities-lost-answers.test.ts and activities-pause.test.ts.
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
});
