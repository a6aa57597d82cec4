import { FULL_SCENARIOS, formatTable, runChaos } from './suite.js';

// The full fault suite: every scenario, with each vendor's rows per scenario, so a run checks over ten thousand rows.
const rowsPerVendor = Number(process.env.CHAOS_ROWS ?? 750);
const reports = await runChaos({
  scenarios: FULL_SCENARIOS,
  rows: { leadsquared: rowsPerVendor, smartlead: rowsPerVendor },
  seed: process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : undefined,
  log: (line) => process.stderr.write(`${line}\n`),
});
const table = formatTable(reports);
process.stdout.write(`${table}\n`);
const failed = reports.some((report) => report.lost > 0 || report.duplicated > 0);
process.exit(failed ? 1 : 0);
