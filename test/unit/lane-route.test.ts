import { describe, expect, it } from 'vitest';
import { cameByRoute, laneRoute } from '../../activities/lane-route.js';
import { parseConfig } from '../../src/config/accounts.js';
import { ConfigError } from '../../src/core/errors.js';
import { laneTaskQueue, lanePriority, sharedLaneTaskQueue } from '../../src/core/task-queues.js';
import { LEADSQUARED_ACCOUNT } from '../helpers/accounts.js';

const PATH = '/etc/leadsync/leadsync.yaml';

function workerConfig(worker: unknown) {
  return parseConfig({ accounts: { acme: LEADSQUARED_ACCOUNT }, ...(worker === undefined ? {} : { worker }) }, PATH);
}

function failure(worker: unknown): string {
  try {
    workerConfig(worker);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('the config was accepted');
}

describe('the worker.taskQueues setting', () => {
  it('defaults to per-account queues, without a per-key backstop', () => {
    expect(workerConfig(undefined).worker).toEqual({
      taskQueues: 'per-account',
      fairnessKeyBackstop: false,
      maxConcurrentChunks: 1_000,
    });
  });

  it('refuses a mode it does not know, naming the key', () => {
    expect(failure({ taskQueues: 'pooled' })).toMatch(/worker\.taskQueues/);
  });

  it('refuses a per-key backstop on per-account queues, naming the key', () => {
    expect(failure({ fairnessKeyBackstop: true })).toMatch(/worker\.fairnessKeyBackstop: .*taskQueues: shared/);
  });
});

describe('the route of a chunk', () => {
  const deps = (worker: unknown) => ({ config: workerConfig(worker), workflowTaskQueue: 'leadsync' });
  const account = (worker: unknown) => deps(worker).config.accounts.acme!;
  const windows = account(undefined).effectivePlan.lanes.bulk!.windows;

  it("is the account's own lane queue, with no priority, on per-account queues", () => {
    expect(laneRoute(deps(undefined), account(undefined), 'bulk')).toEqual({
      taskQueue: laneTaskQueue('leadsquared', 'acme', 'bulk'),
    });
  });

  it('is the shared queue of its lane kind on shared queues, keyed by vendor, account and lane', () => {
    const shared = deps({ taskQueues: 'shared' });

    const route = laneRoute(shared, account({ taskQueues: 'shared' }), 'bulk');

    expect(route).toEqual({
      taskQueue: 'leadsync-lane-bulk',
      priority: { fairnessKey: 'leadsquared/acme/bulk', fairnessWeight: 0.8 },
    });
    expect(cameByRoute(shared, route, { taskQueue: 'leadsync-lane-bulk' })).toBe(true);
    expect(cameByRoute(shared, route, { taskQueue: sharedLaneTaskQueue('leadsync', 'general') })).toBe(false);
    expect(cameByRoute(shared, route, { taskQueue: laneTaskQueue('leadsquared', 'acme', 'bulk') })).toBe(false);
  });

  it("holds a chunk to its lane's fairness key and weight only where the per-key backstop makes them a ceiling", () => {
    const backstop = deps({ taskQueues: 'shared', fairnessKeyBackstop: true });
    const route = laneRoute(backstop, account({ taskQueues: 'shared' }), 'bulk');
    const came = (priority: { fairnessKey?: string; fairnessWeight?: number } | undefined) =>
      cameByRoute(backstop, route, { taskQueue: route.taskQueue, priority });

    // As the server hands it back: a 32-bit float.
    expect(came({ fairnessKey: 'leadsquared/acme/bulk', fairnessWeight: Math.fround(0.8) })).toBe(true);
    expect(came({ fairnessKey: 'leadsquared/acme/bulk', fairnessWeight: 0.5 })).toBe(true);
    expect(came({ fairnessKey: 'leadsquared/acme/bulk', fairnessWeight: 5 })).toBe(false);
    expect(came({ fairnessKey: 'leadsquared/other/bulk', fairnessWeight: 0.8 })).toBe(false);
    expect(came(undefined)).toBe(false);
    // Without the backstop, the same forged weight only orders dispatch.
    expect(cameByRoute(deps({ taskQueues: 'shared' }), route, { taskQueue: route.taskQueue })).toBe(true);
  });

  it('keeps a fairness key within the 64 bytes the server takes, and apart for names alike in their first 64', () => {
    const long = (last: string) => `${'a'.repeat(70)}${last}`;

    const one = lanePriority('leadsquared', long('1'), 'general', windows).fairnessKey;
    const two = lanePriority('leadsquared', long('2'), 'general', windows).fairnessKey;

    expect(one.length).toBe(64);
    expect(one).toMatch(/^leadsquared\/a+~[0-9a-f]{8}\/general$/);
    expect(one).not.toBe(two);
  });
});
