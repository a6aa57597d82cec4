// The types of compiled-tree.js, for the TypeScript that imports it (the benches, the tests).
export declare const PACKAGE_ROOT: string;
export declare const DIST: string;
export declare const SOURCE_CLI: string;
export declare const COMPILED_CLI: string;
export declare function compiledTreeState(
  root?: string,
): { compiled: true } | { compiled: false; stale?: true; reason: string };
export declare function build(): void;
export declare function ensureBuilt(onBuild?: (reason: string) => void): string;
