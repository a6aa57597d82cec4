import { z } from 'zod';
import { AlertTriggersSchema } from '../core/alerts.js';
import { ConfigError } from '../core/errors.js';
import { isHttpsOrLoopback } from '../core/loopback.js';
import { EnvRefSchema } from './env-ref.js';

const HTTPS_ONLY = 'must be https:// (http:// only to localhost, 127.0.0.0/8 or ::1): alerts say what failed where';

/**
 * Where alerts go. `webhook`: a JSON body signed with HMAC-SHA256 under the secret `secretEnv` names. `slack`: a Slack
 * incoming webhook, whose URL is itself the secret, so the config names its variable. One strict object per kind, so
 * a wrong key is reported at its own path.
 */
const AlertTargetSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('webhook'),
      url: z.url().refine(isHttpsOrLoopback, { message: HTTPS_ONLY }),
      secretEnv: EnvRefSchema,
    })
    .strict(),
  z.object({ kind: z.literal('slack'), urlEnv: EnvRefSchema }).strict(),
]);
export type AlertTarget = z.infer<typeof AlertTargetSchema>;

export const AlertsConfigSchema = z
  .object({
    targets: z
      .record(
        z.string().regex(/^[a-z0-9][a-z0-9-_]*$/i, 'target names are letters, digits, - and _'),
        AlertTargetSchema,
      )
      .refine((targets) => Object.keys(targets).length > 0, { message: 'name at least one target' }),
    triggers: AlertTriggersSchema.default(AlertTriggersSchema.parse({})),
  })
  .strict();
export type AlertsConfig = z.infer<typeof AlertsConfigSchema>;

/** Where a target's alerts go, and the secret they are signed with: read from the environment at delivery. */
export interface ResolvedAlertTarget {
  url: string;
  secret?: string;
}

/** Reads the variables a target names; an error names the target and the variable, never a value. */
export function resolveAlertTarget(
  name: string,
  target: AlertTarget,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedAlertTarget {
  const read = (variable: string, key: string) => {
    const value = env[variable];
    if (!value) throw new ConfigError(`alerts.targets.${name}.${key}: environment variable ${variable} is not set`);
    return value;
  };
  if (target.kind === 'webhook') return { url: target.url, secret: read(target.secretEnv, 'secretEnv') };
  const url = read(target.urlEnv, 'urlEnv');
  if (!isHttpsOrLoopback(url)) {
    throw new ConfigError(`alerts.targets.${name}.urlEnv: the URL in ${target.urlEnv} ${HTTPS_ONLY}`);
  }
  return { url };
}

/** The variables the alert targets name: secrets all, for the redactor. */
export function alertSecretVariables(alerts: AlertsConfig | undefined): string[] {
  return Object.values(alerts?.targets ?? {}).map((target) =>
    target.kind === 'webhook' ? target.secretEnv : target.urlEnv,
  );
}
