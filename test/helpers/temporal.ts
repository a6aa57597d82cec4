import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** host:port of the Temporal frontend the integration run shares (a dev server, or TEMPORAL_ADDRESS). */
    temporalAddress: string;
    temporalNamespace: string;
    /** The Web UI of the dev server; undefined against an existing cluster. */
    temporalUiUrl: string | undefined;
  }
}

export interface TestTemporal {
  address: string;
  namespace: string;
  uiUrl: string | undefined;
}

/** The server global-setup started (or found), for use inside a test file. */
export function testTemporal(): TestTemporal {
  return {
    address: inject('temporalAddress'),
    namespace: inject('temporalNamespace'),
    uiUrl: inject('temporalUiUrl'),
  };
}

/** A Client on the shared server; close its connection in afterAll. */
export async function connectTestClient(): Promise<{ client: Client; connection: Connection }> {
  const { address, namespace } = testTemporal();
  const connection = await Connection.connect({ address });
  return { client: new Client({ connection, namespace }), connection };
}

/** The connection a Worker takes; close it after the worker has shut down. */
export async function connectTestWorker(): Promise<NativeConnection> {
  return NativeConnection.connect({ address: testTemporal().address });
}

/**
 * A name no other test or earlier run uses: the server is shared by every test file of the run (and, with
 * TEMPORAL_ADDRESS, outlives it), so task queues and workflow ids must never collide.
 */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** A fresh task queue: pollers of another test can never steal its tasks. */
export function uniqueTaskQueue(prefix = 'test'): string {
  return uniqueName(`${prefix}-tq`);
}
