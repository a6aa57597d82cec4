import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The tree this code runs from: a checkout's TypeScript through tsx (this module is tools/code-tree.ts), or the
 * compiled JavaScript under dist/ (`npm run build`: dist/tools/code-tree.js), whose modules keep the same relative
 * paths. A module loaded by path (the workflows, the bundler's child) names its file with CODE_EXTENSION; a file tsc
 * does not compile (examples/, deploy/) is found from PACKAGE_ROOT, which dist/ is one level below.
 */
export const CODE_EXTENSION = extname(fileURLToPath(import.meta.url));
/** Whether this is the compiled tree; the TypeScript needs tsx's loader in every process that runs it. */
export const COMPILED = CODE_EXTENSION === '.js';
/** The checkout (or the image's /app): package.json, examples/, deploy/, node_modules/. */
export const PACKAGE_ROOT = fileURLToPath(new URL(COMPILED ? '../..' : '..', import.meta.url));
/** The root of the modules: PACKAGE_ROOT itself, or its dist/. */
export const CODE_ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Node's options that load a module of this tree: tsx's loader for the TypeScript, nothing for the JavaScript. */
export const LOADER_OPTIONS: readonly string[] = COMPILED ? [] : ['--import', 'tsx'];
