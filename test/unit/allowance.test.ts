import { describe, expect, it } from 'vitest';
import { laneAllowances, rowsPerSecond, syncAllowances } from '../../src/core/allowance.js';
import { PLANS } from '../../src/core/plans.js';

describe('lane allowances', () => {
  it('gives the bulk lane its ceiling and the general lane what bulk calls leave (Enterprise: 14.8 rows/s)', () => {
    const lanes = PLANS.leadsquared.enterprise!.lanes;

    const allowances = laneAllowances(lanes);

    expect(allowances.find((a) => a.lane === 'bulk')).toMatchObject({ callsPerSecond: 0.2, rowsPerSecond: 10 });
    expect(allowances.find((a) => a.lane === 'general')?.callsPerSecond).toBeCloseTo(4.8);
    expect(rowsPerSecond(lanes)).toBeCloseTo(14.8);
  });

  it('leaves the general lane whole when bulk calls do not count against it', () => {
    const lanes = { ...PLANS.leadsquared.pro!.lanes, bulk: { ...PLANS.leadsquared.pro!.lanes.bulk!, alsoSpends: [] } };

    expect(rowsPerSecond(lanes)).toBeCloseTo(10 + 1);
  });

  it('binds SmartLead Standard to its hourly window, not its burst', () => {
    const [general] = laneAllowances(PLANS.smartlead.standard!.lanes);

    expect(general?.callsPerSecond).toBeCloseTo(1000 / 3600);
    expect(general?.rowsPerSecond).toBeCloseTo((1000 / 3600) * 400);
  });

  it('gives Lite (2 per 5 s) one bulk call and one single call per window', () => {
    expect(rowsPerSecond(PLANS.leadsquared.lite!.lanes)).toBeCloseTo((50 + 1) / 5);
  });

  it('carries activities 25 to a bulk call, at the calls per second leads get', () => {
    const plan = PLANS.leadsquared.enterprise!;

    const activities = syncAllowances(plan, 'activities');

    expect(activities.find((a) => a.lane === 'bulk')).toMatchObject({ callsPerSecond: 0.2, rowsPerCall: 25 });
    expect(activities.map((a) => a.callsPerSecond)).toEqual(syncAllowances(plan).map((a) => a.callsPerSecond));
  });

  it('leaves out a lane the other lanes leave no calls', () => {
    const lanes = PLANS.leadsquared.lite!.lanes;
    const plan = {
      ...PLANS.leadsquared.lite!,
      lanes: { ...lanes, general: { ...lanes.general!, windows: [{ limit: 1, seconds: 5 }] } },
    };

    const allowances = syncAllowances(plan);

    expect(allowances.map((a) => a.lane)).toEqual(['bulk']);
  });
});
