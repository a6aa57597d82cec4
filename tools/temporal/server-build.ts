import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TEMPORAL_SERVER_VERSION } from './cli-build.js';
import { ensureGoBuild, goEnv, leadsyncCacheDir, type GoBuildOptions } from './go-build.js';

/** The server module; its version is the one the pinned CLI embeds (TEMPORAL_SERVER_VERSION), so both run alike. */
export const TEMPORAL_SERVER_MODULE = 'go.temporal.io/server';
/** The Web UI server the pinned CLI's go.mod requires: the UI `temporal server start-dev` serves. */
export const TEMPORAL_UI_SERVER_MODULE = 'github.com/temporalio/ui-server/v2';
export const TEMPORAL_UI_SERVER_VERSION = 'v2.42.1';

/** The server's PostgreSQL schemas (12 and later), as shipped in its module: `temporal` and `visibility`. */
const POSTGRES_SCHEMA = join('schema', 'postgresql', 'v12');

export interface TemporalServerTools {
  /** `temporal-server start`, from go.temporal.io/server/cmd/server. */
  server: string;
  /** `temporal-sql-tool`, from go.temporal.io/server/cmd/tools/sql: creates and migrates the databases. */
  sqlTool: string;
  /** `<dir>/temporal` and `<dir>/visibility`, each with schema.sql and versioned/ migrations. */
  postgresSchema: string;
}

export function temporalServerDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(leadsyncCacheDir(env), `temporal-server-v${TEMPORAL_SERVER_VERSION}`);
}

export function temporalUiServerDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(leadsyncCacheDir(env), `temporal-ui-server-${TEMPORAL_UI_SERVER_VERSION}`);
}

/** The server and its SQL tool, built with `go install` into the cache on first use, and the schemas beside them. */
export async function ensureTemporalServer(options: GoBuildOptions = {}): Promise<TemporalServerTools> {
  const version = `v${TEMPORAL_SERVER_VERSION}`;
  const dir = await ensureGoBuild(
    {
      title: `Temporal server ${TEMPORAL_SERVER_VERSION} and its SQL tool`,
      directory: temporalServerDir(options.env),
      packages: [
        `${TEMPORAL_SERVER_MODULE}/cmd/server@${version}`,
        `${TEMPORAL_SERVER_MODULE}/cmd/tools/sql@${version}`,
      ],
      binaries: { server: 'temporal-server', sql: 'temporal-sql-tool' },
      // The schemas come with the module's sources, which `go clean -modcache` may remove: keep a copy with the tools.
      async assemble(buildDir, go, env) {
        const moduleDir = join(await goEnv(go, 'GOMODCACHE', env), `${TEMPORAL_SERVER_MODULE}@${version}`);
        await copyTree(join(moduleDir, POSTGRES_SCHEMA), join(buildDir, POSTGRES_SCHEMA));
      },
    },
    options,
  );
  return {
    server: join(dir, 'temporal-server'),
    sqlTool: join(dir, 'temporal-sql-tool'),
    postgresSchema: join(dir, POSTGRES_SCHEMA),
  };
}

/** The Web UI server (`temporal-ui-server start`), built with `go install` into the cache on first use. */
export async function ensureTemporalUiServer(options: GoBuildOptions = {}): Promise<string> {
  const dir = await ensureGoBuild(
    {
      title: `Temporal UI server ${TEMPORAL_UI_SERVER_VERSION}`,
      directory: temporalUiServerDir(options.env),
      packages: [`${TEMPORAL_UI_SERVER_MODULE}/cmd/server@${TEMPORAL_UI_SERVER_VERSION}`],
      binaries: { server: 'temporal-ui-server' },
    },
    options,
  );
  return join(dir, 'temporal-ui-server');
}

/** Copies files as plain writable copies: the module cache's are read-only, which would outlive a rename. */
async function copyTree(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const entry of await readdir(from, { withFileTypes: true })) {
    if (entry.isDirectory()) await copyTree(join(from, entry.name), join(to, entry.name));
    else if (entry.isFile()) await writeFile(join(to, entry.name), await readFile(join(from, entry.name)));
  }
}
