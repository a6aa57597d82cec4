import { describe, expect, it } from 'vitest';
import { formatTable, runChaos } from '../../chaos/suite.js';

/** The short form of `npm run chaos`: the same checks on fewer rows, with each kind of fault at least once. */
describe('chaos, short form', () => {
  it('loses and duplicates nothing while workers are killed, Temporal restarts and the vendors misbehave', async () => {
    const reports = await runChaos({
      scenarios: [
        { name: 'lost responses + SIGKILL', faults: { lostResponseRate: 0.2 }, kills: 2 },
        {
          name: 'Temporal restart + 500s, drops, timeouts',
          faults: { errorRate: 0.1, dropRate: 0.1, slowMs: 3_000, slowRate: 0.05 },
          restarts: 1,
        },
      ],
      rows: { leadsquared: 300, smartlead: 300 },
      seed: 5,
    });
    process.stdout.write(`${formatTable(reports)}\n`);
    for (const report of reports) {
      expect(report).toMatchObject({ checked: 600, lost: 0, duplicated: 0 });
    }
    expect(reports.reduce((sum, r) => sum + r.kills, 0)).toBeGreaterThan(0);
    expect(reports.reduce((sum, r) => sum + r.restarts, 0)).toBe(1);
    expect(reports.reduce((sum, r) => sum + r.vendorFaults, 0)).toBeGreaterThan(0);
    // Answers lost after the write and killed workers do make resends: each one explained by them, none duplicated.
    expect(reports[0]!.leadSquaredResent + reports[0]!.smartLeadResent).toBeGreaterThan(0);
  }, 300_000);
});
