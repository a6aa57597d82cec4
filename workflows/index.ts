// Every workflow the worker registers; the worker bundles this file into Temporal's sandbox.
export { leadsyncAlert } from './alerts.js';
export { accountGovernor } from './governor.js';
export { leadsThenActivities } from './leads-then-activities.js';
export { scheduledSync } from './scheduled-sync.js';
export { leadSync } from './sync.js';
