import { describe, expect, it } from 'vitest';
import { landedLeadsWithActivities, startFrom } from '../helpers/activities-harness.js';
import { leadSquaredSyncFixture } from '../helpers/sync-harness.js';
// The worker runs in this process: its requests name the chunk activity that sent them.
import '../helpers/tag-senders.js';
import { auditWrites } from '../helpers/write-counts.js';

describe('activities into LeadSquared whose answers are lost', () => {
  const fixture = leadSquaredSyncFixture({ plan: 'enterprise' });

  it('posts each activity once when the vendor loses the answers of writes that landed', async () => {
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
