import { execFile } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, describe, expect, it } from 'vitest';
import { startSync } from '../../src/api/syncs.js';
import { connectLeadsyncClient } from '../../src/api/connect.js';
import { createSyncSchedule } from '../../src/api/schedules.js';
import { ownClusterFixture } from '../helpers/cluster.js';
import { run } from '../helpers/run-cli.js';
import {
  LEAD_HEADER,
  csvLines,
  leadRows,
  leadSquaredAccount,
  spawnCliWorker,
  stopChild,
  writeCsv,
  type LeadSquaredSetup,
} from '../helpers/sync-harness.js';
import { uniqueName } from '../helpers/temporal.js';

const openssl = promisify(execFile);

interface Pki {
  dir: string;
  ca: string;
  server: { cert: string; key: string };
  client: { cert: string; key: string };
}

/** A CA of the test's own, a server certificate for localhost and 127.0.0.1, and a client certificate it signed. */
async function makePki(): Promise<Pki> {
  const dir = await mkdtemp(join(tmpdir(), 'leadsync-pki-'));
  const at = (name: string) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl('openssl', [
    'req', '-x509', ...ec, '-keyout', at('ca.key'), '-out', at('ca.pem'), '-days', '2', '-subj', '/CN=leadsync test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]); // prettier-ignore
  const issue = async (name: string, subject: string, extensions: string) => {
    await writeFile(at(`${name}.ext`), extensions);
    await openssl('openssl', ['req', ...ec, '-keyout', at(`${name}.key`), '-out', at(`${name}.csr`), '-subj', subject]);
    await openssl('openssl', [
      'x509', '-req', '-in', at(`${name}.csr`), '-CA', at('ca.pem'), '-CAkey', at('ca.key'), '-CAcreateserial',
      '-out', at(`${name}.pem`), '-days', '2', '-extfile', at(`${name}.ext`),
    ]); // prettier-ignore
    return { cert: at(`${name}.pem`), key: at(`${name}.key`) };
  };
  const server = await issue(
    'server',
    '/CN=localhost',
    // The server's own services present it to the frontend as a client certificate too.
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n',
  );
  const client = await issue(
    'client',
    '/CN=leadsync-worker',
    'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n',
  );
  return { dir, ca: at('ca.pem'), server, client };
}

describe('a Temporal cluster that requires mutual TLS', () => {
  let pki: Pki;
  const own = ownClusterFixture(async () => {
    pki = await makePki();
    return {
      tls: {
        certFile: pki.server.cert,
        keyFile: pki.server.key,
        caFile: pki.ca,
        serverName: 'localhost',
        requireClientAuth: true,
      },
    };
  });

  /** What a leadsync process is given to reach the cluster with the client certificate: the `temporal` CLI's names. */
  function clientEnvironment(): Record<string, string> {
    return {
      TEMPORAL_ADDRESS: own.cluster.address,
      TEMPORAL_NAMESPACE: own.cluster.namespace,
      TEMPORAL_TLS_CERT: pki.client.cert,
      TEMPORAL_TLS_KEY: pki.client.key,
      TEMPORAL_TLS_CA: pki.ca,
      TEMPORAL_TLS_SERVER_NAME: 'localhost',
    };
  }

  it('refuses a client and a worker that bring no client certificate', async () => {
    const serverOnly = { serverNameOverride: 'localhost', serverRootCACertificate: await readFile(pki.ca) };

    const client = await Connection.connect({ address: own.cluster.address, tls: serverOnly, connectTimeout: 3_000 })
      .then(async (connection) => {
        // A lazy channel would only fail on its first call: make one.
        await connection.workflowService.getSystemInfo({});
        return connection;
      })
      .catch((err: unknown) => err);
    const worker = await NativeConnection.connect({ address: own.cluster.address, tls: serverOnly }).catch(
      (err: unknown) => err,
    );
    const plaintext = await Connection.connect({ address: own.cluster.address, connectTimeout: 3_000 })
      .then((connection) => connection.workflowService.getSystemInfo({}))
      .catch((err: unknown) => err);

    for (const refused of [client, worker, plaintext]) expect(refused).toBeInstanceOf(Error);
    // Not a server that is down: the same connection with the client certificate is served.
    const withCertificate = await NativeConnection.connect({
      address: own.cluster.address,
      tls: {
        ...serverOnly,
        clientCertPair: { crt: await readFile(pki.client.cert), key: await readFile(pki.client.key) },
      },
    });
    await withCertificate.close();
    // The handshake fails: the server wants a certificate the client did not send.
    expect(String((client as Error).message)).toMatch(/certificate|handshake|tls|UNAVAILABLE|connect/i);
    expect(String((worker as Error).message)).toMatch(/certificate|handshake|tls|transport|connect/i);
    console.info(
      `without a client certificate: client "${(client as Error).message}"; worker "${(worker as Error).message}"`,
    );
  });

  describe('with the client certificate from TEMPORAL_TLS_*', () => {
    let setup: LeadSquaredSetup;
    let worker: ChildProcess | undefined;

    afterAll(async () => {
      if (worker) await stopChild(worker);
      await setup?.simulator.stop();
    });

    it('runs a sync with a `leadsync worker`, the client API, a schedule and `leadsync status`', async () => {
      setup = await leadSquaredAccount({ plan: 'enterprise' });
      worker = spawnCliWorker(setup, clientEnvironment());
      const env = { ...process.env, ...clientEnvironment() };
      const client = await connectLeadsyncClient({ env });
      try {
        const rows = leadRows(40);
        const file = await writeCsv(setup.directory, 'leads.csv', LEAD_HEADER, csvLines(rows));
        const input = { account: setup.accountName, source: { kind: 'csv' as const, path: file } };
        const handle = await startSync(client, input, { taskQueue: setup.taskQueue });
        const result = await handle.result();

        expect(result).toMatchObject({ totalRows: 40, read: 40, accepted: 40, rejected: 0 });
        expect(setup.simulator.report({ requests: false }).leads.count).toBe(40);

        const status = await run(
          process.execPath,
          ['--import', 'tsx', 'src/cli/main.ts', 'status', handle.workflowId, '--json'],
          env,
        );
        expect(status.code, status.stderr).toBe(0);
        expect(JSON.parse(status.stdout)).toMatchObject({ counts: { read: 40, accepted: 40 } });

        const schedule = await createSyncSchedule(client, {
          scheduleId: uniqueName('tls-schedule'),
          input,
          every: '1h',
          taskQueue: setup.taskQueue,
          paused: true,
        });
        try {
          expect((await schedule.describe()).state.paused).toBe(true);
        } finally {
          await schedule.delete();
        }
      } finally {
        await client.connection.close();
      }
    });
  });
});
