import type { Plan } from './plans.js';
import type { Records } from './contract.js';

/**
 * The plan's lanes as rows of this kind use them: activities go 25 to a bulk call where leads go 50 (the plan's
 * activitiesPerCall), so a chunk is never cut larger than the one call that carries it.
 */
export function recordLanes(plan: Plan, records: Records): Plan['lanes'] {
  if (records === 'leads' || plan.activitiesPerCall === undefined || !plan.lanes.bulk) return plan.lanes;
  // A lane configured smaller than the endpoint's limit keeps its own size.
  const rowsPerCall = Math.min(plan.lanes.bulk.rowsPerCall, plan.activitiesPerCall);
  return { ...plan.lanes, bulk: { ...plan.lanes.bulk, rowsPerCall } };
}
