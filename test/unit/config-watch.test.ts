import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { watchConfig } from '../../src/cli/config-watch.js';

const SETTLE_MS = 50;
/** Long enough for the file system's events and the settling time, on a loaded machine. */
const QUIET_MS = 500;

describe("the worker's watch of its config file", () => {
  const watches: { close(): void }[] = [];
  afterEach(() => {
    for (const watch of watches.splice(0)) watch.close();
  });

  async function watched(): Promise<{ path: string; changes: () => number }> {
    const directory = await mkdtemp(join(tmpdir(), 'leadsync-watch-'));
    const path = join(directory, 'leadsync.yaml');
    await writeFile(path, 'accounts: {}\n');
    let changes = 0;
    watches.push(watchConfig({ path }, () => changes++, SETTLE_MS));
    return { path, changes: () => changes };
  }

  it("sees a save by rename (a new inode), and the next one, once each for the editor's burst of events", async () => {
    const { path, changes } = await watched();

    for (const text of ['accounts: { a: 1 }\n', 'accounts: { a: 2 }\n']) {
      await writeFile(`${path}.swp`, text);
      await rename(`${path}.swp`, path);
      await sleep(QUIET_MS);
    }

    expect(changes()).toBe(2);
  });

  it('sees a file written in place', async () => {
    const { path, changes } = await watched();

    await writeFile(path, 'accounts: { b: 1 }\n');
    await sleep(QUIET_MS);

    expect(changes()).toBe(1);
  });

  it('sees an account file added to its directory, then changed, then removed', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'leadsync-watch-'));
    const accountFiles = join(directory, 'accounts.d');
    await mkdir(accountFiles);
    const path = join(directory, 'leadsync.yaml');
    await writeFile(path, 'accounts: {}\naccountFiles: accounts.d\n');
    let changes = 0;
    watches.push(watchConfig({ path, accountFiles }, () => changes++, SETTLE_MS));

    await writeFile(join(accountFiles, 'acme.yaml'), 'accounts: { acme: 1 }\n');
    await sleep(QUIET_MS);
    await writeFile(join(accountFiles, 'acme.yaml'), 'accounts: { acme: 2 }\n');
    await sleep(QUIET_MS);
    await rm(join(accountFiles, 'acme.yaml'));
    await sleep(QUIET_MS);

    expect(changes).toBe(3);
  });

  it('lets the same text written again, and other files of the directory, pass without a reload', async () => {
    const { path, changes } = await watched();

    await writeFile(path, 'accounts: {}\n');
    await writeFile(join(path, '..', 'leads.csv'), 'EmailAddress\n');
    await sleep(QUIET_MS);

    expect(changes()).toBe(0);
  });
});
