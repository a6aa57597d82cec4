// The workflows bundled once for a run of integration tests: bundling takes seconds of CPU (3.5 s on the 2-core test
// machine), and each test file runs in a process of its own, so bundling per file cost every file that much again.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { WORKFLOWS_PATH } from '../../src/worker/worker.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A file holding the run's bundle of the workflows (test/helpers/sync-harness.ts reads it). */
    workflowBundlePath: string;
  }
}

export const quietLogger = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/**
 * Bundles the workflows as they are now, into a directory of this run's own, and provides its path to the project's
 * test files; returns the teardown that removes it.
 */
export async function provideWorkflowBundle(project: TestProject): Promise<() => Promise<void>> {
  const directory = await mkdtemp(join(tmpdir(), 'leadsync-bundle-'));
  const path = join(directory, 'workflows.js');
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
  await writeFile(path, code);
  project.provide('workflowBundlePath', path);
  return () => rm(directory, { recursive: true, force: true });
}
