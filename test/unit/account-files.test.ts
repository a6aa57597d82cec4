import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/accounts.js';
import { ConfigError } from '../../src/core/errors.js';
import { LEADSQUARED_ACCOUNT, SMARTLEAD_ACCOUNT } from '../helpers/accounts.js';

/** A config file naming `accounts.d` beside it as its account files, with those files written there. */
async function configWith(files: Record<string, unknown>): Promise<{ path: string; directory: string }> {
  const root = await mkdtemp(join(tmpdir(), 'leadsync-account-files-'));
  const directory = join(root, 'accounts.d');
  await mkdir(directory);
  const path = join(root, 'leadsync.yaml');
  await writeFile(path, toYaml({ accounts: { main: LEADSQUARED_ACCOUNT }, accountFiles: 'accounts.d' }));
  for (const [name, content] of Object.entries(files)) {
    await writeFile(join(directory, name), typeof content === 'string' ? content : toYaml(content));
  }
  return { path, directory };
}

describe('a directory of account files', () => {
  it("adds each YAML and JSON file's accounts to the config's own, and reads no other file", async () => {
    const { path, directory } = await configWith({
      'acme.yaml': { accounts: { acme: LEADSQUARED_ACCOUNT } },
      'outreach.json': JSON.stringify({ accounts: { outreach: SMARTLEAD_ACCOUNT } }),
      '.acme.yaml.swp': 'not: [yaml',
      'README.txt': 'not an account file',
    });

    const config = await loadConfig(path);

    expect(Object.keys(config.accounts).sort()).toEqual(['acme', 'main', 'outreach']);
    expect(config.accounts.outreach!.effectivePlan.vendor).toBe('smartlead');
    expect(config.accountFiles).toBe(directory);
  });

  it('names the account file and the key of a bad value, a bad plan too', async () => {
    const timeout = await configWith({ 'acme.yaml': { accounts: { acme: { ...LEADSQUARED_ACCOUNT, timeoutMs: 0 } } } });
    const plan = await configWith({ 'acme.yaml': { accounts: { acme: { ...LEADSQUARED_ACCOUNT, plan: 'gold' } } } });

    await expect(loadConfig(timeout.path)).rejects.toThrow(
      `invalid config file ${join(timeout.directory, 'acme.yaml')}:\n  - accounts.acme.timeoutMs:`,
    );
    await expect(loadConfig(plan.path)).rejects.toThrow(
      `${join(plan.directory, 'acme.yaml')}: accounts.acme.plan: unknown leadsquared plan 'gold'`,
    );
  });

  it('refuses an account named twice, naming both files, and a file holding more than accounts', async () => {
    const twice = await configWith({ 'main.yaml': { accounts: { main: SMARTLEAD_ACCOUNT } } });
    const more = await configWith({ 'acme.yaml': { accounts: {}, worker: { taskQueues: 'shared' } } });

    await expect(loadConfig(twice.path)).rejects.toThrow(
      `${join(twice.directory, 'main.yaml')}: accounts.main: already configured in ${twice.path}`,
    );
    await expect(loadConfig(more.path)).rejects.toThrow(ConfigError);
    await expect(loadConfig(more.path)).rejects.toThrow(
      `${join(more.directory, 'acme.yaml')}: worker: an account file holds accounts only`,
    );
  });
});
