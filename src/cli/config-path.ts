import { ConfigError } from '../config/errors.js';
import { existsSync } from 'node:fs';

/** --config, else LEADSYNC_CONFIG, else ./leadsync.yaml when there is one. */
export function configPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const path = flag ?? env.LEADSYNC_CONFIG?.trim();
  if (path) return path;
  if (existsSync('leadsync.yaml')) return 'leadsync.yaml';
  throw new ConfigError('no config file: pass --config <path> or set LEADSYNC_CONFIG (see examples/leadsync.yaml)');
}
