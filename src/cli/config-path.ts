import { existsSync } from 'node:fs';
import { loadConfig, type LoadedConfig } from '../config/accounts.js';
import { readEnvironment } from '../config/environment.js';
import { ConfigError } from '../core/errors.js';
import type { VendorRegistry } from '../vendors/registry.js';
import { configSecretVariables } from '../config/secrets.js';

/** The secret variables of every config this CLI process loaded: its error output is redacted of them too. */
export const loadedSecretVariables = new Set<string>();

/** Loads a config for a command, and remembers the variables it names secrets by. */
export async function loadCliConfig(path: string, registry?: VendorRegistry): Promise<LoadedConfig> {
  const config = await loadConfig(path, registry);
  for (const variable of configSecretVariables(config)) loadedSecretVariables.add(variable);
  return config;
}

/** --config, else LEADSYNC_CONFIG, else ./leadsync.yaml when there is one. */
export function configPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const path = flag ?? readEnvironment(env).LEADSYNC_CONFIG;
  if (path) return path;
  if (existsSync('leadsync.yaml')) return 'leadsync.yaml';
  throw new ConfigError('no config file: pass --config <path> or set LEADSYNC_CONFIG (see examples/leadsync.yaml)');
}
