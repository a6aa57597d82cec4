import { ConfigError } from '../core/errors.js';
import type { VendorName } from '../core/plans.js';
import { leadSquared } from './leadsquared/index.js';
import { smartLead } from './smartlead/index.js';
import type { Vendor } from './types.js';

/** Every vendor client leadsync has, by name. Partial while a vendor of VendorName has no client yet. */
const vendors: Partial<Record<VendorName, Vendor>> = {
  leadsquared: leadSquared,
  smartlead: smartLead,
};

export function vendorFor(name: VendorName): Vendor {
  const vendor = vendors[name];
  if (!vendor) {
    throw new ConfigError(
      `no client for vendor '${name}' in this build (available: ${Object.keys(vendors).join(', ')})`,
    );
  }
  return vendor;
}
