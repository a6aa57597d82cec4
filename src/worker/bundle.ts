import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import type { WorkflowBundle } from '@temporalio/worker';
import { CODE_EXTENSION, CODE_ROOT, LOADER_OPTIONS, PACKAGE_ROOT } from '../../tools/code-tree.js';

// The TypeScript in a checkout, the JavaScript tsc emitted in the compiled tree: webpack bundles either.
export const WORKFLOWS_PATH = join(CODE_ROOT, `workflows/index${CODE_EXTENSION}`);
const BUNDLER_PATH = join(CODE_ROOT, `src/worker/bundle-main${CODE_EXTENSION}`);

/** The converters a bundle is built with: the keyed ones when payloads are encrypted (dataConverterFromEnv). */
export interface BundleConverters {
  payloadConverterPath?: string | undefined;
  failureConverterPath?: string | undefined;
}

/**
 * The workflows bundled by webpack in a process of its own, which hands back the code and exits. Bundled in the
 * worker's process, webpack would leave about 160 MB of its modules and of heap the process never gives back in the
 * worker for its whole life.
 */
export async function bundleWorkflowsApart(converters: BundleConverters): Promise<WorkflowBundle> {
  const child = spawn(process.execPath, [...LOADER_OPTIONS, BUNDLER_PATH, JSON.stringify(converters)], {
    cwd: PACKAGE_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const code: Buffer[] = [];
  const errors: Buffer[] = [];
  child.stdout.on('data', (data: Buffer) => code.push(data));
  child.stderr.on('data', (data: Buffer) => errors.push(data));
  const [status] = (await once(child, 'close')) as [number | null];
  if (status !== 0) {
    throw new Error(`bundling the workflows failed (exit ${status}): ${Buffer.concat(errors).toString('utf8').trim()}`);
  }
  return { code: Buffer.concat(code).toString('utf8') };
}
