import type { Command } from 'commander';
import { z } from 'zod';
import { ConfigError, formatZodIssues } from '../../config/errors.js';
import { PAYLOAD_KEY_ENV, payloadCodecFromEnv, startCodecServer } from '../../temporal/codec.js';

const FlagsSchema = z.object({
  port: z.coerce.number().int().min(0).max(65_535),
  host: z.string().min(1),
  origin: z.array(z.url()).min(1),
});

export function registerCodecServer(program: Command): void {
  program
    .command('codec-server')
    .description(
      `decrypt payloads for the Temporal Web UI and CLI (remote codec endpoint), with the key in $${PAYLOAD_KEY_ENV}`,
    )
    .option('--port <port>', 'port to listen on', '8081')
    .option(
      '--host <host>',
      'interface to bind; loopback unless told, since whoever reaches it can decrypt',
      '127.0.0.1',
    )
    .option('--origin <url...>', 'Web UI origin allowed to call the endpoint from a browser (repeatable)', [
      'http://localhost:8233',
    ])
    .action(async (options: { port: string; host: string; origin: string[] }) => {
      const flags = FlagsSchema.safeParse(options);
      if (!flags.success) throw new ConfigError(`codec-server:\n${formatZodIssues(flags.error)}`);
      const codec = payloadCodecFromEnv();
      if (!codec) throw new ConfigError(`codec-server: set ${PAYLOAD_KEY_ENV} to the key the workers encrypt with`);
      const server = await startCodecServer({ codec, ...flags.data, origins: flags.data.origin });
      process.stderr.write(
        `codec endpoint ${server.url} (key ${codec.keyId}) for ${flags.data.origin.join(', ')}\n` +
          `Web UI: set it as the codec endpoint; CLI: temporal workflow show --codec-endpoint ${server.url} ...\n`,
      );
      await new Promise<void>((resolve) => {
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
      });
      await server.close();
    });
}
