import { parseConfig, type Account } from '../../src/config/accounts.js';

/** A LeadSquared account as a user writes it in leadsync.yaml: keys named by environment variable, never inline. */
export const LEADSQUARED_ACCOUNT = {
  vendor: 'leadsquared',
  plan: 'pro',
  baseUrl: 'https://api-us11.leadsquared.com/v2',
  credentials: { accessKeyEnv: 'LSQ_ACCESS_KEY', secretKeyEnv: 'LSQ_SECRET_KEY' },
};

/** A SmartLead account as a user writes it in leadsync.yaml. */
export const SMARTLEAD_ACCOUNT = {
  vendor: 'smartlead',
  plan: 'standard',
  baseUrl: 'https://server.smartlead.ai/api/v1',
  credentials: { apiKeyEnv: 'SMARTLEAD_API_KEY' },
};

/** One account named `name`, parsed from its config as the worker parses leadsync.yaml. */
export function parsedAccount(name: string, config: Record<string, unknown>): Account {
  return parseConfig({ accounts: { [name]: config } }, 'leadsync.yaml').accounts[name]!;
}
