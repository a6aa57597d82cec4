#!/usr/bin/env node
// Runs the compiled CLI (dist/, `npm run build`) when it is built after the last change to the sources, else the
// TypeScript through tsx, so `npx leadsync` works from a checkout without a build step (compiled-tree.js has the rule).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { COMPILED_CLI, PACKAGE_ROOT, SOURCE_CLI, compiledTreeState } from './compiled-tree.js';

const tree = compiledTreeState();
if (tree.stale) process.stderr.write(`leadsync: running the sources through tsx: ${tree.reason}\n`);
const entry = tree.compiled ? [join(PACKAGE_ROOT, COMPILED_CLI)] : ['--import', 'tsx', join(PACKAGE_ROOT, SOURCE_CLI)];
const result = spawnSync(process.execPath, [...entry, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(result.status ?? 1);
