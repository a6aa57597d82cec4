import { existsSync } from 'node:fs';
import { readEnvironment } from '../config/environment.js';
import { ConfigError } from '../config/errors.js';

/** --config, else LEADSYNC_CONFIG, else ./leadsync.yaml when there is one. */
export function configPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const path = flag ?? readEnvironment(env).LEADSYNC_CONFIG;
  if (path) return path;
  if (existsSync('leadsync.yaml')) return 'leadsync.yaml';
  throw new ConfigError('no config file: pass --config <path> or set LEADSYNC_CONFIG (see examples/leadsync.yaml)');
}
