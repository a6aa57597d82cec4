import type { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listCustomSearchAttributes } from '../../tools/temporal/operator.js';
import { connectTestClient, testTemporal } from '../helpers/temporal.js';

describe('the Temporal server of the integration run', () => {
  let client: Client;
  let connection: Connection;

  beforeAll(async () => {
    ({ client, connection } = await connectTestClient());
  });

  afterAll(async () => {
    await connection?.close();
  });

  it('answers on its frontend', async () => {
    const info = await connection.workflowService.getSystemInfo({});
    expect(info.serverVersion).toMatch(/^\d+\.\d+\.\d+/);
    const namespace = await connection.workflowService.describeNamespace({ namespace: client.options.namespace });
    expect(namespace.namespaceInfo?.name).toBe(testTemporal().namespace);
  });

  it("serves the Temporal Web UI's app page", async (ctx) => {
    const { uiUrl } = testTemporal();
    if (!uiUrl) ctx.skip(); // an existing cluster named by TEMPORAL_ADDRESS: we do not know its UI
    const response = await fetch(uiUrl!);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    const html = await response.text();
    // The UI is a SvelteKit app: its shell boots a client bundle, which must be served too.
    const entry = /href="(\/_app\/immutable\/entry\/start\.[^"]+\.js)"/.exec(html)?.[1];
    expect(entry).toBeDefined();
    const bundle = await fetch(new URL(entry!, uiUrl));
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toMatch(/javascript/);
  });

  it('has the custom search attributes leadsync uses registered', async () => {
    const attributes = await listCustomSearchAttributes(connection, testTemporal().namespace);
    expect(attributes).toMatchObject({
      LeadsyncVendor: 'KEYWORD',
      LeadsyncAccount: 'KEYWORD',
      LeadsyncSource: 'TEXT',
      LeadsyncState: 'KEYWORD',
    });
  });
});
