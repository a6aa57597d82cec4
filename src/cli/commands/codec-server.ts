import type { Command } from 'commander';
import { z } from 'zod';
import { ConfigError, formatZodIssues } from '../../core/errors.js';
import { PAYLOAD_KEY_ENV, payloadCodecFromEnv } from '../../temporal/codec.js';
import {
  CODEC_TOKEN_ENV,
  DEFAULT_CODEC_BODY_LIMIT,
  LOOPBACK_HOST_NAMES,
  startCodecServer,
} from '../../temporal/codec-server.js';

const FlagsSchema = z.object({
  port: z.coerce.number().int().min(0).max(65_535),
  host: z.string().min(1),
  origin: z.array(z.url()).min(1),
  allowedHost: z.array(z.string().regex(/^[^\s/]+$/, 'a host name, optionally with :port')).min(1),
  allowEncode: z.boolean(),
  maxBodyBytes: z.coerce.number().int().min(1024),
});

const TokenSchema = z.string().min(16, `${CODEC_TOKEN_ENV}: at least 16 characters (e.g. openssl rand -hex 32)`);

export function registerCodecServer(program: Command): void {
  program
    .command('codec-server')
    .description(
      `decrypt payloads for the Temporal Web UI and CLI (remote codec endpoint), with the key in $${PAYLOAD_KEY_ENV}; ` +
        `with $${CODEC_TOKEN_ENV} set, every call must carry it as a bearer token`,
    )
    .option('--port <port>', 'port to listen on', '8081')
    .option(
      '--host <host>',
      `interface to bind; loopback unless told, since whoever reaches it can decrypt (another needs $${CODEC_TOKEN_ENV})`,
      '127.0.0.1',
    )
    .option('--origin <url...>', 'Web UI origin allowed to call the endpoint from a browser (repeatable)', [
      'http://localhost:8233',
    ])
    .option(
      '--allowed-host <name...>',
      'Host header names served (repeatable); others are refused, so a DNS-rebinding page cannot call in',
      [...LOOPBACK_HOST_NAMES],
    )
    .option('--allow-encode', 'serve /encode too (the Web UI and CLI encode inputs they send through it)', false)
    .option('--max-body-bytes <n>', 'largest request body accepted (413 beyond)', String(DEFAULT_CODEC_BODY_LIMIT))
    .action(async (options: Record<string, unknown>) => {
      const flags = FlagsSchema.safeParse(options);
      if (!flags.success) throw new ConfigError(`codec-server:\n${formatZodIssues(flags.error)}`);
      const codec = payloadCodecFromEnv();
      if (!codec) throw new ConfigError(`codec-server: set ${PAYLOAD_KEY_ENV} to the key the workers encrypt with`);
      const rawToken = process.env[CODEC_TOKEN_ENV]?.trim() || undefined;
      const token = rawToken === undefined ? undefined : TokenSchema.safeParse(rawToken);
      if (token && !token.success) throw new ConfigError(`codec-server: ${token.error.issues[0]?.message}`);
      const { origin, allowedHost, ...rest } = flags.data;
      const server = await startCodecServer({
        codec,
        ...rest,
        origins: origin,
        allowedHosts: allowedHost,
        token: token?.data,
      });
      process.stderr.write(
        `codec endpoint ${server.url} (key ${codec.keyId}) for ${origin.join(', ')}; ` +
          `${flags.data.allowEncode ? 'decode and encode' : 'decode only'}; ` +
          `${token ? `bearer token required ($${CODEC_TOKEN_ENV})` : 'no token asked for'}; ` +
          `hosts ${allowedHost.join(', ')}\n` +
          `Web UI: set it as the codec endpoint; CLI: temporal workflow show --codec-endpoint ${server.url}` +
          `${token ? ` --codec-auth "Bearer $${CODEC_TOKEN_ENV}"` : ''} ...\n`,
      );
      await new Promise<void>((resolve) => {
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
      });
      await server.close();
    });
}
