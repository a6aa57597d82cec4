import { defineConfig } from 'vitest/config';

const PACED_FILES = [
  // A pause's first post is waited for a minute at most: beside other files in CI a pause test's chunks once did not
  // start within one (pause.test.ts), so this one stays here too.
  'test/integration/activities-pause.test.ts',
  'test/integration/activities-sync.test.ts',
  'test/integration/leadsquared-sync.test.ts',
  'test/integration/pause.test.ts',
  'test/integration/priority.test.ts',
  'test/integration/shared-queues.test.ts',
  'test/integration/smartlead-sync.test.ts',
  // No 429 whatever the signals say: beside three other files, two of its calls once arrived in a full window.
  'test/integration/untrusted-signals.test.ts',
];

/**
 * What a real cluster changes (task queues on four partitions, a server on PostgreSQL, a restart), so these run there
 * only: several workers on one account, recovery from a killed worker, continue-as-new and the cursor across runs.
 * Each ran on the dev server too, and took three minutes of every run for nothing the cluster run does not check.
 */
const CLUSTER_FILES = [
  'test/integration/incremental-sync.test.ts',
  'test/integration/leadsquared-recovery.test.ts',
  'test/integration/multi-worker.test.ts',
];

// The Temporal native bridge misbehaves in worker threads: every project runs in forked processes.
export default defineConfig({
  test: {
    pool: 'forks',
    // The integration tests mostly wait on rate windows, not the CPU (a whole run kept 2 cores about a third busy):
    // four files at a time ran everything but the paced project in 8 min on 2 cores, two at a time in about 15.
    maxWorkers: 4,
    projects: [
      {
        extends: true,
        // A vendor's tests sit in its folder (src/vendors/<vendor>/test/), in the same projects.
        test: { name: 'unit', include: ['test/unit/**/*.test.ts', 'src/vendors/*/test/unit/**/*.test.ts'] },
      },
      {
        // Real HTTP servers (simulators, vendor clients against them), no Temporal.
        extends: true,
        test: {
          name: 'components',
          include: ['test/components/**/*.test.ts', 'src/vendors/*/test/components/**/*.test.ts'],
          testTimeout: 60_000,
        },
      },
      // One runner walks every vendor's corpus, with what is particular to each from its folder's test/contract.ts.
      { extends: true, test: { name: 'contract', include: ['test/contract/**/*.test.ts'], testTimeout: 60_000 } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          exclude: [...PACED_FILES, ...CLUSTER_FILES],
          globalSetup: ['test/helpers/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 600_000,
        },
      },
      {
        // The tests that measure in real time: every request of every rate window counted at the simulator against a
        // tolerance measured with one or two busy loops beside them (test/helpers/vendor-windows.ts), and how soon a
        // pause stops chunks, reads counted per second. Run beside another integration file, worker and simulator
        // shared two cores with another worker, simulator and server under load: a 1,000-row Enterprise sync once saw
        // 3 calls arrive in a full window, and the pause test's chunks did not start within a minute. So they run
        // after everything else, one at a time, on the machine their bounds were measured on; the bounds are unchanged.
        extends: true,
        test: {
          name: 'paced',
          include: PACED_FILES,
          globalSetup: ['test/helpers/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 600_000,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
      {
        // The tests that matter for a real cluster, on the Temporal server on PostgreSQL with task queues on their
        // default four partitions (tools/temporal/cluster.ts): the same integration files, reading the endpoint this
        // project's setup provides, and the cluster's own (server restart, mutual TLS).
        extends: true,
        test: {
          name: 'cluster',
          include: [...CLUSTER_FILES, 'test/cluster/**/*.test.ts'],
          globalSetup: ['test/helpers/cluster-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
