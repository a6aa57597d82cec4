import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cycles, importGraph, valueClosure } from '../helpers/import-graph.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The layers, lowest first: a module imports from its own layer or below, never above. The layout table of docs/architecture.md
 * says what each folder holds.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['src/core'],
  ['src/observability', 'src/simulation'],
  ['src/vendors', 'src/sources'],
  ['src/rejects'],
  ['src/config'],
  ['src/temporal', 'src/governance', 'tools'],
  ['activities'],
  ['workflows'],
  ['src/worker', 'src/api'],
  ['src/cli'],
];

const graph = importGraph(ROOT, ['src', 'activities', 'workflows', 'tools']);

function layerOf(module: string): number {
  const layer = LAYERS.findIndex((folders) => folders.some((folder) => module.startsWith(`${folder}/`)));
  if (layer < 0) throw new Error(`${module} is in no layer: add its folder to LAYERS and to docs/architecture.md`);
  return layer;
}

describe('the architecture', () => {
  it('has no import cycle, type imports included', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('has every module in a layer, importing only from its own layer or below', () => {
    const upward = graph
      .filter(({ from, to }) => layerOf(to) > layerOf(from))
      .map(({ from, to }) => `${from} -> ${to}`);

    expect(upward).toEqual([]);
  });

  it('bundles into workflows nothing but workflows/ and src/core/, the folders the workflow lint rules cover', () => {
    const bundled = [...valueClosure(graph, 'workflows/index.ts')];

    const outside = bundled.filter((module) => !module.startsWith('workflows/') && !module.startsWith('src/core/'));

    expect(outside).toEqual([]);
    expect(bundled).toContain('src/core/contract.ts');
  });

  it('loads no simulator in a worker: its activities, workflows and vendors reach no simulator/ module', () => {
    const entries = ['src/worker/worker.ts', 'activities/index.ts', 'workflows/index.ts'];
    const loaded = [...new Set(entries.flatMap((entry) => [...valueClosure(graph, entry)]))];

    const simulators = loaded.filter((module) => module.includes('/simulator/'));

    expect(simulators).toEqual([]);
    expect(loaded).toContain('src/vendors/leadsquared/index.ts');
  });
});
