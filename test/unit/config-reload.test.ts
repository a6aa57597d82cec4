import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Client } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { ActivityContext } from '../../activities/context.js';
import { toActivityFailure } from '../../activities/failures.js';
import { parseConfig, UnknownAccountError, type LoadedConfig } from '../../src/config/accounts.js';
import { accountChanges, reloadChanges } from '../../src/config/reload.js';
import { ConfigError } from '../../src/core/errors.js';
import { Redactor } from '../../src/observability/redactor.js';
import { VENDORS } from '../../src/vendors/registry.js';
import { LEADSQUARED_ACCOUNT, SMARTLEAD_ACCOUNT } from '../helpers/accounts.js';

const PATH = '/etc/leadsync/leadsync.yaml';

function config(accounts: Record<string, unknown>, more: Record<string, unknown> = {}): LoadedConfig {
  return parseConfig({ accounts, ...more }, PATH);
}

const env = {
  LSQ_ACCESS_KEY: 'lsq-access-1234',
  LSQ_SECRET_KEY: 'lsq-secret-5678',
  SMARTLEAD_API_KEY: 'sl-key-abcd',
  OTHER_ACCESS: 'other-access-9999',
};

describe('what a config reload changes', () => {
  it('names the accounts added, changed (a plan or a lane override) and removed', () => {
    const running = config({ a: LEADSQUARED_ACCOUNT, b: LEADSQUARED_ACCOUNT, c: SMARTLEAD_ACCOUNT });
    const next = config({
      a: LEADSQUARED_ACCOUNT,
      b: { ...LEADSQUARED_ACCOUNT, lanes: { general: { rowsPerCall: 10 } } },
      d: SMARTLEAD_ACCOUNT,
    });

    expect(reloadChanges(running, next)).toEqual({ added: ['d'], changed: ['b'], removed: ['c'] });
    expect(accountChanges(running, running)).toEqual({ added: [], changed: [], removed: [] });
  });

  it('refuses a file whose other keys changed, naming the file and each key', () => {
    const running = config({ a: LEADSQUARED_ACCOUNT });
    const next = config(
      { a: LEADSQUARED_ACCOUNT, d: SMARTLEAD_ACCOUNT },
      { worker: { taskQueues: 'shared' }, rejects: { directory: 'elsewhere' } },
    );

    const refusal = () => reloadChanges(running, next);

    expect(refusal).toThrow(ConfigError);
    expect(refusal).toThrow(`${PATH}: rejects.directory, worker.taskQueues: changed, and only a restart takes these`);
  });

  it("refuses an account's change of vendor, naming its key", () => {
    const running = config({ a: LEADSQUARED_ACCOUNT });
    const next = config({ a: SMARTLEAD_ACCOUNT });

    expect(() => reloadChanges(running, next)).toThrow(`${PATH}: accounts.a.vendor: changed`);
  });
});

describe("a worker's activity context across reloads", () => {
  function context(running: LoadedConfig, redactor = new Redactor([])): ActivityContext {
    // The client is never used: nothing here reserves a slot.
    return new ActivityContext({
      config: running,
      client: new Client(),
      workflowTaskQueue: 'unused',
      vendors: VENDORS,
      env,
      redactor,
    });
  }

  it('reads an account it does not know as not yet: a retryable failure, not a config error', () => {
    const activities = context(config({ a: LEADSQUARED_ACCOUNT }));

    const unknown = () => activities.account('b');

    expect(unknown).toThrow(UnknownAccountError);
    expect(unknown).toThrow(`unknown account 'b' in ${PATH} (configured: a)`);
    const failure = toActivityFailure(new UnknownAccountError('unknown account'), activities.redactor);
    expect(failure).toMatchObject({ type: 'AccountUnknown', nonRetryable: false });
  });

  it('gives an added account at once, and wakes a sync waiting for it', async () => {
    const running = config({ a: LEADSQUARED_ACCOUNT });
    const activities = context(running);
    const waiting = activities.accountAdded('b', 60_000, new AbortController().signal);

    const next = config({ a: LEADSQUARED_ACCOUNT, b: SMARTLEAD_ACCOUNT });
    activities.reload(next, reloadChanges(running, next));

    await expect(waiting).resolves.toBe(true);
    expect(activities.account('b').vendor).toBe('smartlead');
    expect(activities.connect('b').account.name).toBe('b');
  });

  it('stops waiting for an account after the wait, or when the sync is cancelled', async () => {
    const activities = context(config({ a: LEADSQUARED_ACCOUNT }));
    const cancel = new AbortController();

    const timedOut = activities.accountAdded('b', 10, new AbortController().signal);
    const cancelled = activities.accountAdded('b', 60_000, cancel.signal);
    cancel.abort();

    await expect(timedOut).resolves.toBe(false);
    await expect(cancelled).resolves.toBe(false);
  });

  it("ends the wait at its time though the garbage collector runs meanwhile (an attempt's wait is bounded)", async () => {
    const activities = context(config({ a: LEADSQUARED_ACCOUNT }));
    setFlagsFromString('--expose-gc');
    const collect = runInNewContext('gc') as () => void;
    const collecting = setInterval(collect, 20);
    try {
      const waited = activities.accountAdded('b', 200, new AbortController().signal);
      const late = sleep(3_000).then(() => 'still waiting');
      await expect(Promise.race([waited, late])).resolves.toBe(false);
    } finally {
      clearInterval(collecting);
    }
  });

  it('connects anew to a changed account, while a chunk that connected before keeps its connection', () => {
    const running = config({ a: LEADSQUARED_ACCOUNT });
    const activities = context(running);
    const before = activities.connect('a');
    expect(activities.connect('a')).toBe(before);

    const next = config({ a: { ...LEADSQUARED_ACCOUNT, baseUrl: 'https://api-in21.leadsquared.com/v2' } });
    activities.reload(next, reloadChanges(running, next));

    const after = activities.connect('a');
    expect(after).not.toBe(before);
    expect(after.account.baseUrl).toBe('https://api-in21.leadsquared.com/v2');
    expect(before.account.baseUrl).toBe(LEADSQUARED_ACCOUNT.baseUrl);
  });

  it("refuses a removed account's work with a config error naming it, until a reload adds it back", () => {
    const running = config({ a: LEADSQUARED_ACCOUNT, b: LEADSQUARED_ACCOUNT });
    const activities = context(running);
    const removed = config({ a: LEADSQUARED_ACCOUNT });
    activities.reload(removed, reloadChanges(running, removed));

    const refused = () => activities.connect('b');

    expect(refused).toThrow(ConfigError);
    expect(refused).not.toThrow(UnknownAccountError);
    expect(refused).toThrow(`account 'b' was removed from ${PATH} by a config reload while this sync used it`);
    activities.reload(running, reloadChanges(removed, running));
    expect(activities.connect('b').account.name).toBe('b');
  });

  it("teaches the worker's redactor the secrets a reload's accounts name", () => {
    const running = config({ a: LEADSQUARED_ACCOUNT });
    const redactor = new Redactor([]);
    const activities = context(running, redactor);
    expect(redactor.redact(env.OTHER_ACCESS)).toBe(env.OTHER_ACCESS);

    const next = config({
      a: LEADSQUARED_ACCOUNT,
      b: { ...LEADSQUARED_ACCOUNT, credentials: { accessKeyEnv: 'OTHER_ACCESS', secretKeyEnv: 'LSQ_SECRET_KEY' } },
    });
    activities.reload(next, reloadChanges(running, next));

    expect(redactor.redact(`key ${env.OTHER_ACCESS}`)).toBe('key [REDACTED]');
  });
});
