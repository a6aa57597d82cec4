import type { VendorName } from '../core/plans.js';
import type { RunningSimulator } from './simulator.js';
import { startLeadSquaredSimulator, type LeadSquaredSimulatorOptions } from '../vendors/leadsquared/simulator/server.js';
import { startSmartLeadSimulator, type SmartLeadSimulatorOptions } from '../vendors/smartlead/simulator/server.js';

/** Each vendor's simulator options, by vendor name. */
export interface SimulatorOptions {
  leadsquared: LeadSquaredSimulatorOptions;
  smartlead: SmartLeadSimulatorOptions;
}

const simulators: { [V in VendorName]: (options: SimulatorOptions[V]) => Promise<RunningSimulator> } = {
  leadsquared: startLeadSquaredSimulator,
  smartlead: startSmartLeadSimulator,
};

/** Starts the simulator of a vendor; options are validated by the vendor's schema (a ConfigError says what is wrong). */
export function startSimulator<V extends VendorName>(
  vendor: V,
  options: SimulatorOptions[V],
): Promise<RunningSimulator> {
  const start = simulators[vendor] as (options: SimulatorOptions[V]) => Promise<RunningSimulator>;
  return start(options);
}
