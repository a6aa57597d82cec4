import { describe, expect, it } from 'vitest';
import { laneAllowances, pacedAllowances, rowsPerSecond, syncAllowances } from '../../src/core/allowance.js';
import { LEADSQUARED_PLANS } from '../../src/vendors/leadsquared/plans.js';
import { SMARTLEAD_PLANS } from '../../src/vendors/smartlead/plans.js';

describe('lane allowances', () => {
  it('gives the bulk lane its ceiling and the general lane what bulk calls leave (Enterprise: 14.8 rows/s)', () => {
    const lanes = LEADSQUARED_PLANS.enterprise!.lanes;

    const allowances = laneAllowances(lanes);

    expect(allowances.find((a) => a.lane === 'bulk')).toMatchObject({ callsPerSecond: 0.2, rowsPerSecond: 10 });
    expect(allowances.find((a) => a.lane === 'general')?.callsPerSecond).toBeCloseTo(4.8);
    expect(rowsPerSecond(lanes)).toBeCloseTo(14.8);
  });

  it('leaves the general lane whole when bulk calls do not count against it', () => {
    const lanes = { ...LEADSQUARED_PLANS.pro!.lanes, bulk: { ...LEADSQUARED_PLANS.pro!.lanes.bulk!, alsoSpends: [] } };

    expect(rowsPerSecond(lanes)).toBeCloseTo(10 + 1);
  });

  it('binds SmartLead Standard to its hourly window, not its burst', () => {
    const [general] = laneAllowances(SMARTLEAD_PLANS.standard!.lanes);

    expect(general?.callsPerSecond).toBeCloseTo(1000 / 3600);
    expect(general?.rowsPerSecond).toBeCloseTo((1000 / 3600) * 400);
  });

  it('gives Lite (2 per 5 s) one bulk call and one single call per window', () => {
    expect(rowsPerSecond(LEADSQUARED_PLANS.lite!.lanes)).toBeCloseTo((50 + 1) / 5);
  });

  it('carries activities 25 to a bulk call, at the calls per second leads get', () => {
    const plan = LEADSQUARED_PLANS.enterprise!;

    const activities = syncAllowances(plan, 'activities');

    expect(activities.find((a) => a.lane === 'bulk')).toMatchObject({ callsPerSecond: 0.2, rowsPerCall: 25 });
    expect(activities.map((a) => a.callsPerSecond)).toEqual(syncAllowances(plan).map((a) => a.callsPerSecond));
  });

  it('paces each lane as the governor does, every window widened by the margin (Enterprise at 200 ms: 14.23 rows/s)', () => {
    const paced = pacedAllowances(LEADSQUARED_PLANS.enterprise!, 200);

    expect(paced.find((a) => a.lane === 'bulk')?.callsPerSecond).toBeCloseTo(1 / 5.2);
    expect(paced.find((a) => a.lane === 'general')?.callsPerSecond).toBeCloseTo(24 / 5.2);
    expect(paced.reduce((sum, a) => sum + a.rowsPerSecond, 0)).toBeCloseTo(74 / 5.2);
  });

  it('leaves out a lane the other lanes leave no calls', () => {
    const lanes = LEADSQUARED_PLANS.lite!.lanes;
    const plan = {
      ...LEADSQUARED_PLANS.lite!,
      lanes: { ...lanes, general: { ...lanes.general!, windows: [{ limit: 1, seconds: 5 }] } },
    };

    const allowances = syncAllowances(plan);

    expect(allowances.map((a) => a.lane)).toEqual(['bulk']);
  });
});
