import type { Plan, PlanTable } from '../../core/plans.js';

function smartLeadPlan(name: string, perSecond: number, perMinute: number, perHour: number): Plan {
  return {
    vendor: 'smartlead',
    name,
    lanes: {
      general: {
        windows: [
          { limit: perSecond, seconds: 1 },
          { limit: perMinute, seconds: 60 },
          { limit: perHour, seconds: 3600 },
        ],
        rowsPerCall: 400,
        alsoSpends: [],
      },
    },
  };
}

/** Every plan of SmartLead's rate-limit page (../shared/seeds), as published. */
export const SMARTLEAD_PLANS: PlanTable = {
  standard: smartLeadPlan('standard', 10, 60, 1000),
  pro: smartLeadPlan('pro', 20, 120, 3000),
};
