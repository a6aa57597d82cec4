import type { Plan, PlanTable, Window } from '../../core/plans.js';

const per5s = (limit: number): Window => ({ limit, seconds: 5 });

/**
 * Rows an activity bulk call takes: the endpoint's own limit, whatever the plan (seed; apidocs: post-bulk-activities-on-
 * leads, "up to 25 activities in a single call"), so a custom plan keeps it too.
 */
export const ACTIVITIES_PER_BULK_CALL = 25;

function leadSquaredPlan(name: string, generalPer5s: number): Plan {
  return {
    vendor: 'leadsquared',
    name,
    lanes: {
      general: { windows: [per5s(generalPer5s)], rowsPerCall: 1, alsoSpends: [] },
      // The seed does not say whether a bulk call also counts against the general limit: assume it does.
      bulk: { windows: [per5s(1)], rowsPerCall: 50, alsoSpends: ['general'] },
    },
    activitiesPerCall: ACTIVITIES_PER_BULK_CALL,
  };
}

/** Every plan of LeadSquared's rate-limit page (../shared/seeds), as published. */
export const LEADSQUARED_PLANS: PlanTable = {
  lite: leadSquaredPlan('lite', 2),
  pro: leadSquaredPlan('pro', 5),
  super: leadSquaredPlan('super', 10),
  basic: leadSquaredPlan('basic', 10),
  standard: leadSquaredPlan('standard', 15),
  enterprise: leadSquaredPlan('enterprise', 25),
};
