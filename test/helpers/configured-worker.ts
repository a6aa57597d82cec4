import { writeFile } from 'node:fs/promises';
import type { Client } from '@temporalio/client';
import { stringify as toYaml } from 'yaml';
import { loadConfig } from '../../src/config/accounts.js';
import { LeadsyncWorker } from '../../src/worker/worker.js';
import { testClient, workflowBundle } from './sync-harness.js';
import { testTemporal } from './temporal.js';

/** A worker in this process over a config the test writes whole, and a client: `stop` them in afterAll. */
export interface ConfiguredWorker {
  client: Client;
  stop(): Promise<void>;
}

/** Writes `config` as YAML to `configPath` (relative paths in it resolve from there) and starts a worker over it. */
export async function startConfiguredWorker(
  configPath: string,
  config: Record<string, unknown>,
  taskQueue: string,
): Promise<ConfiguredWorker> {
  await writeFile(configPath, toYaml(config));
  const worker = await LeadsyncWorker.create({
    config: await loadConfig(configPath),
    ...testTemporal(),
    taskQueue,
    workflowBundle: await workflowBundle(),
  });
  const running = worker.run();
  const { client, connection } = await testClient();
  return {
    client,
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
    },
  };
}
