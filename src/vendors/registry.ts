import { ConfigError } from '../core/errors.js';
import type { Plan } from '../core/plans.js';
import { leadSquared } from './leadsquared/index.js';
import { smartLead } from './smartlead/index.js';
import type { TargetFlag, Vendor } from './types.js';

/**
 * A set of vendors and what follows from it: the names an account may have, every plan, the CLI's target flags.
 * Built from a list so a test can build one with a vendor of its own; leadsync's is VENDORS.
 */
export interface VendorRegistry {
  readonly vendors: readonly Vendor[];
  /** The vendor of this name; a ConfigError names the ones there are. */
  named(name: string): Vendor;
  /** Every published plan of every vendor, for `leadsync plans`. */
  plans(): Plan[];
  /** The target flags of every vendor, each once. */
  targetFlags(): TargetFlag[];
}

export function vendorRegistry(vendors: readonly Vendor[]): VendorRegistry {
  const byName = new Map(vendors.map((vendor) => [vendor.name, vendor]));
  if (byName.size !== vendors.length) throw new Error('two vendors of the same name in one registry');
  return {
    vendors,
    named(name) {
      const vendor = byName.get(name);
      if (!vendor) {
        throw new ConfigError(`no vendor '${name}' in this build (available: ${[...byName.keys()].join(', ')})`);
      }
      return vendor;
    },
    plans: () => vendors.flatMap((vendor) => Object.values(vendor.plans)),
    targetFlags() {
      const byFlags = new Map(vendors.flatMap((vendor) => vendor.targetFlags).map((flag) => [flag.flags, flag]));
      return [...byFlags.values()];
    },
  };
}

/** Every vendor leadsync has: a new one is a folder of src/vendors/ and a line here. */
export const VENDORS = vendorRegistry([leadSquared, smartLead]);
