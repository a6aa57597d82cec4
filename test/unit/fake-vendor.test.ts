import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { simulateAccountsWithoutCredentials } from '../../src/cli/commands/dev.js';
import { plansTable } from '../../src/cli/commands/plans.js';
import { registerSimulate } from '../../src/cli/commands/simulate.js';
import { addSyncOptions, targetFrom } from '../../src/cli/sync-options.js';
import { accountSchemaOf, effectivePlan, type Account } from '../../src/config/accounts.js';
import { VENDORS, vendorRegistry } from '../../src/vendors/registry.js';
import { fakeVendor } from '../fixtures/vendors/fake/index.js';
import { startFakeSimulator, type FakeSimulator } from '../fixtures/vendors/fake/simulator/server.js';

const registry = vendorRegistry([...VENDORS.vendors, fakeVendor]);

const TOKEN_VARIABLE = 'LEADSYNC_TEST_FAKE_VENDOR_TOKEN';
const rawAccount = {
  vendor: 'fake',
  plan: 'starter',
  baseUrl: 'https://fake.example.com/',
  credentials: { tokenEnv: TOKEN_VARIABLE },
};

function fakeAccount(): Account {
  const config = accountSchemaOf(registry).parse(rawAccount);
  return { ...config, name: 'f', effectivePlan: effectivePlan('f', config, 'leadsync.yaml', registry) };
}

afterEach(() => {
  delete process.env[TOKEN_VARIABLE];
});

describe('a third vendor registered with one line', () => {
  it('is an account vendor of its registry, with its own credential, and of no other registry', () => {
    const schema = accountSchemaOf(registry);

    expect(schema.safeParse(rawAccount).success).toBe(true);
    expect(schema.safeParse({ ...rawAccount, credentials: { apiKeyEnv: 'KEY' } }).success).toBe(false);
    expect(accountSchemaOf(VENDORS).safeParse(rawAccount).success).toBe(false);
  });

  it("gives accounts its plans, and names them when an account's plan is unknown", () => {
    const config = accountSchemaOf(registry).parse({ ...rawAccount, plan: 'gold' });

    expect(fakeAccount().effectivePlan.lanes.general?.windows).toEqual([{ limit: 3, seconds: 1 }]);
    expect(() => effectivePlan('f', config, 'leadsync.yaml', registry)).toThrow(
      /unknown fake plan 'gold' \(known: starter, custom\)/,
    );
  });

  it("is in the plans table beside the real vendors' plans", () => {
    const vendors = registry.plans().map((plan) => plan.vendor);

    expect(new Set(vendors)).toEqual(new Set(['leadsquared', 'smartlead', 'fake']));
    expect(plansTable(registry.plans())).toMatch(/^fake +starter +general +3\/1s/m);
  });

  it('adds its target flag to sync and schedule, and the flag sets its target', () => {
    const command = addSyncOptions(new Command('sync'), registry);
    const options = { account: 'f', fakeList: 'L-1' };

    expect(command.options.map((option) => option.long)).toContain('--fake-list');
    expect(targetFrom(options, registry)).toEqual({ listId: 'L-1' });
  });

  it('has a simulate subcommand with its own flags', () => {
    const program = new Command('leadsync');
    registerSimulate(program, registry);

    const simulate = program.commands.find((command) => command.name() === 'simulate')!;
    const fake = simulate.commands.find((command) => command.name() === 'fake');

    expect(fake?.options.map((option) => option.long)).toEqual(expect.arrayContaining(['--plan', '--token']));
  });

  it("gets dev's simulator for an account without credentials, given the account's plan and fresh keys", async () => {
    const account = fakeAccount();

    const [simulator] = (await simulateAccountsWithoutCredentials({ accounts: { f: account } }, registry)) as [
      FakeSimulator,
    ];

    expect(simulator.plan.name).toBe('starter');
    expect(simulator.token).toBe(process.env[TOKEN_VARIABLE]);
    expect(account.baseUrl).toBe(simulator.baseUrl);
  });

  it('may have no simulator: simulate offers none, and dev names it for an account without credentials', async () => {
    const { simulator: _none, ...withoutSimulator } = fakeVendor;
    const bare = vendorRegistry([...VENDORS.vendors, withoutSimulator]);
    const program = new Command('leadsync');
    registerSimulate(program, bare);

    const simulate = program.commands.find((command) => command.name() === 'simulate')!;

    expect(simulate.commands.map((command) => command.name())).toEqual(['leadsquared', 'smartlead']);
    await expect(simulateAccountsWithoutCredentials({ accounts: { f: fakeAccount() } }, bare)).rejects.toThrow(
      `account f: its credential variables (${TOKEN_VARIABLE}) are unset, and fake has no simulator to stand in`,
    );
  });

  it('connects a client that sends leads over HTTP to the target its flag named', async () => {
    const simulator = await startFakeSimulator(fakeVendor.plans.starter!, 't');
    const account = { ...fakeAccount(), baseUrl: simulator.baseUrl };
    const client = registry.named('fake').connect(account, { token: 't' }, { timeoutMs: 1000 });

    try {
      const result = await client.upsertLeads('general', [{ row: 1, email: 'a@x.co', fields: { email: 'a@x.co' } }], {
        listId: 'L-1',
      });

      expect(result.outcomes).toEqual([{ row: 1, status: 'accepted' }]);
      expect(simulator.leads('L-1')).toEqual([{ email: 'a@x.co' }]);
    } finally {
      await simulator.stop();
    }
  });
});
