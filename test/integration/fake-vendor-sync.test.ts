import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { startSync } from '../../src/api/syncs.js';
import { loadConfig } from '../../src/config/accounts.js';
import { VENDORS, vendorRegistry } from '../../src/vendors/registry.js';
import { fakeVendor } from '../fixtures/vendors/fake/index.js';
import { startFakeSimulator } from '../fixtures/vendors/fake/simulator/server.js';
import { cleanupsAfterEach } from '../helpers/cleanups.js';
import { startTestWorker, testClientFixture, writeCsv } from '../helpers/sync-harness.js';
import { uniqueName, uniqueTaskQueue } from '../helpers/temporal.js';

/** leadsync's vendors and the test-only one, as a build with a third vendor would list them. */
const registry = vendorRegistry([...VENDORS.vendors, fakeVendor]);

describe('a sync to a vendor the registry passed to the worker names', () => {
  const shared = testClientFixture();
  const cleanups = cleanupsAfterEach();

  it('lands every row of a file in the test-only vendor, through its client and over HTTP', async () => {
    const token = uniqueName('token');
    const simulator = await startFakeSimulator(fakeVendor.plans.starter!, token);
    cleanups.push(() => simulator.stop());
    const variable = uniqueName('FAKE_TOKEN')
      .replace(/[^A-Za-z0-9]/g, '_')
      .toUpperCase();
    const directory = await mkdtemp(join(tmpdir(), 'leadsync-test-'));
    const configPath = join(directory, 'leadsync.yaml');
    const account = uniqueName('fake');
    await writeFile(
      configPath,
      toYaml({
        accounts: {
          [account]: {
            vendor: 'fake',
            plan: 'starter',
            baseUrl: simulator.baseUrl,
            credentials: { tokenEnv: variable },
          },
        },
        rejects: { directory: join(directory, 'rejects') },
      }),
    );
    const setup = { config: await loadConfig(configPath, registry), taskQueue: uniqueTaskQueue('fake') };
    const worker = await startTestWorker(setup, undefined, { vendors: registry, env: { [variable]: token } });
    cleanups.push(() => worker.stop());
    const emails = Array.from({ length: 25 }, (_, i) => `${uniqueName('lead')}-${i + 1}@example.com`);
    const file = await writeCsv(
      directory,
      'leads.csv',
      ['email', 'name'],
      emails.map((email, i) => `${email},N${i}`),
    );

    const handle = await startSync(
      shared.client,
      { account, source: { kind: 'csv', path: file }, target: { listId: 'list-1' } },
      { taskQueue: setup.taskQueue },
    );
    const result = await handle.result();

    expect(result).toMatchObject({ totalRows: 25, read: 25, accepted: 25, rejected: 0 });
    // Chunks land in any order: each row once, whichever came first.
    expect(
      simulator
        .leads('list-1')
        .map((lead) => lead.email)
        .sort(),
    ).toEqual([...emails].sort());
  });
});
