import type { Logger } from '@temporalio/common';
import { Runtime } from '@temporalio/worker';
import { z } from 'zod';
import { ConfigError, formatZodIssues } from '../core/errors.js';
import { BACKOFF_BUCKETS_SECONDS, SYNC_METRIC_NAMES } from './metrics.js';

export interface InstallRuntimeOptions {
  /** `host:port` for the Prometheus endpoint (`/metrics`) shared by Temporal's and leadsync's metrics; none when absent. */
  metricsBindAddress?: string;
  /** Receives the SDK's logs, workflow and activity context logs, and the native core's forwarded logs. */
  logger: Logger;
}

/** The variable a deployment sets to the metrics bind address; docker-compose.yml sets it on every worker. */
export const METRICS_BIND_ADDRESS_ENV = 'LEADSYNC_METRICS_BIND_ADDRESS';

/** The address the Prometheus exporter binds; an IPv6 host goes in brackets, as in `[::]:9464`. */
export const MetricsBindAddressSchema = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected host:port, e.g. 0.0.0.0:9464')
  .refine((address) => Number(address.slice(address.lastIndexOf(':') + 1)) <= 65_535, 'port must be at most 65535');

let installed: Runtime | undefined;

/**
 * Warnings the SDK gives for how leadsync is meant to run, said at DEBUG instead: every lane's Worker runs
 * activities only (its queue's rate limit is the lane's ceiling), and the SDK warns at the start of each that it
 * polls no workflow tasks. A user reading three such warnings at every start learns to skip warnings.
 */
const EXPECTED_WARNINGS = new Set(['No workflows registered, not polling for workflow tasks']);

export function withExpectedWarningsDemoted(logger: Logger): Logger {
  const log: Logger['log'] = (level, message, meta) =>
    logger.log(level === 'WARN' && EXPECTED_WARNINGS.has(message) ? 'DEBUG' : level, message, meta);
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}

/**
 * Installs the process's Temporal runtime: logs through `logger`, metrics on one Prometheus endpoint. Must run
 * before any Worker or NativeConnection exists, because the SDK creates a default runtime on first use and a
 * runtime can be installed only once per process.
 */
export function installRuntime(options: InstallRuntimeOptions): Runtime {
  if (installed) throw new ConfigError('installRuntime was called twice: the Temporal runtime is per process');
  let bindAddress: string | undefined;
  if (options.metricsBindAddress !== undefined) {
    const parsed = MetricsBindAddressSchema.safeParse(options.metricsBindAddress);
    if (!parsed.success) throw new ConfigError(`metrics bind address:\n${formatZodIssues(parsed.error)}`);
    bindAddress = parsed.data;
  }
  installed = Runtime.install({
    logger: withExpectedWarningsDemoted(options.logger),
    telemetryOptions: {
      // Forwarded, not printed by the native side, so every line on stderr is one of ours.
      logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
      ...(bindAddress && {
        metrics: {
          prometheus: {
            bindAddress,
            histogramBucketOverrides: { [SYNC_METRIC_NAMES.backoff]: BACKOFF_BUCKETS_SECONDS },
          },
        },
      }),
    },
  });
  return installed;
}
