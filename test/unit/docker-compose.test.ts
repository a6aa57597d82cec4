// No Docker engine runs the tests: the deployment files are checked for what `docker compose up` would need.
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { METRICS_BIND_ADDRESS_ENV, MetricsBindAddressSchema } from '../../src/observability/runtime.js';
import { COMPILED_CLI, SOURCE_CLI } from '../../bin/compiled-tree.js';
import { TEMPORAL_SERVER_VERSION } from '../../tools/temporal/cli-build.js';
import { CLUSTER_DATABASE, CLUSTER_DYNAMIC_CONFIG, HISTORY_SHARDS } from '../../tools/temporal/cluster.js';
import { TEMPORAL_UI_SERVER_VERSION } from '../../tools/temporal/server-build.js';
import { CLI_SEARCH_ATTRIBUTE_TYPES, LEADSYNC_SEARCH_ATTRIBUTES } from '../../src/core/search-attributes.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

const StringMap = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String));
const ServiceSchema = z.object({
  image: z.string().optional(),
  build: z.union([z.string(), z.object({ context: z.string() })]).optional(),
  environment: z
    .union([StringMap, z.array(z.string())])
    .default({})
    .transform((env) =>
      Array.isArray(env)
        ? Object.fromEntries(env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]))
        : env,
    ),
  ports: z.array(z.string()).default([]),
  volumes: z.array(z.string()).default([]),
  depends_on: z
    .union([z.array(z.string()), z.record(z.string(), z.object({ condition: z.string() }))])
    .default({})
    .transform((deps) =>
      Array.isArray(deps) ? Object.fromEntries(deps.map((d) => [d, { condition: 'service_started' }])) : deps,
    ),
  entrypoint: z.array(z.string()).optional(),
  command: z.array(z.string()).optional(),
  healthcheck: z.object({ test: z.array(z.string()) }).optional(),
  profiles: z.array(z.string()).optional(),
});
const ComposeSchema = z.object({
  services: z.record(z.string(), ServiceSchema),
  volumes: z.record(z.string(), z.null()).optional(),
});
type Service = z.infer<typeof ServiceSchema>;

// Merge keys (`<<: *anchor`) are YAML 1.1, which Compose reads; the yaml package needs telling.
const compose = ComposeSchema.parse(parseYaml(read('docker-compose.yml'), { merge: true }));

/** Compose's `${NAME:-default}` with nothing set: what a plain `docker compose up` uses. */
const interpolate = (value: string) => value.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');

function service(name: string): Service {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
}

/** `./host:container[:ro]` bind mounts of a service, interpolated. */
function bindMounts(svc: Service): { host: string; container: string }[] {
  return svc.volumes
    .map(interpolate)
    .filter((volume) => volume.startsWith('./'))
    .map((volume) => {
      const [host, container] = volume.split(':') as [string, string];
      return { host, container };
    });
}

/** Every service `name` waits for, directly or not. */
function startsAfter(name: string, seen = new Set<string>()): Set<string> {
  for (const dep of Object.keys(service(name).depends_on)) {
    if (seen.has(dep)) continue;
    seen.add(dep);
    startsAfter(dep, seen);
  }
  return seen;
}

const WORKERS = Object.keys(compose.services).filter((name) => /^worker-\d+$/.test(name));

describe('docker-compose.yml', () => {
  it('runs PostgreSQL, Temporal, its Web UI, an init step and two leadsync workers', () => {
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining(['postgres', 'temporal', 'temporal-init', 'temporal-ui', 'worker-1', 'worker-2']),
    );
    expect(WORKERS.length).toBeGreaterThanOrEqual(2);
  });

  it('starts every service after what it needs, with no cycle', () => {
    for (const name of Object.keys(compose.services)) {
      expect(startsAfter(name).has(name), `${name} depends on itself`).toBe(false);
      for (const dep of Object.keys(service(name).depends_on)) expect(compose.services).toHaveProperty([dep]);
    }
    expect(service('temporal').depends_on.postgres).toEqual({ condition: 'service_healthy' });
    expect(service('postgres').healthcheck?.test.join(' ')).toContain('pg_isready');
    expect([...startsAfter('temporal-init')]).toContain('temporal');
    expect([...startsAfter('temporal-ui')]).toContain('temporal');
    for (const worker of WORKERS) {
      expect(service(worker).depends_on['temporal-init']).toEqual({ condition: 'service_completed_successfully' });
      expect([...startsAfter(worker)]).toEqual(expect.arrayContaining(['temporal-init', 'temporal', 'postgres']));
    }
  });

  it('gives Temporal the PostgreSQL that the postgres service creates', () => {
    const postgres = service('postgres');
    const temporal = service('temporal');
    expect(interpolate(postgres.image ?? '')).toMatch(/^postgres:1[2-9]/);
    expect(interpolate(temporal.image ?? '')).toMatch(/^temporalio\/(auto-setup|server):1\.\d+\.\d+$/);
    expect(temporal.environment).toMatchObject({
      DB: 'postgres12',
      DB_PORT: '5432',
      POSTGRES_SEEDS: 'postgres',
      POSTGRES_USER: postgres.environment.POSTGRES_USER,
      POSTGRES_PWD: postgres.environment.POSTGRES_PASSWORD,
    });
    expect(temporal.ports).toContain('127.0.0.1:7233:7233');
  });

  it('runs the Temporal of `npm run cluster`: its server and UI versions, databases and history shards', () => {
    expect(interpolate(service('temporal').image ?? '')).toBe(`temporalio/auto-setup:${TEMPORAL_SERVER_VERSION}`);
    expect(interpolate(service('temporal-ui').image ?? '')).toBe(
      `temporalio/ui:${TEMPORAL_UI_SERVER_VERSION.slice(1)}`,
    );
    expect(service('temporal').environment).toMatchObject({
      DBNAME: CLUSTER_DATABASE,
      VISIBILITY_DBNAME: `${CLUSTER_DATABASE}_visibility`,
      NUM_HISTORY_SHARDS: String(HISTORY_SHARDS),
    });
  });

  it('publishes every port on 127.0.0.1 only', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const port of svc.ports) expect(port, `${name} publishes ${port}`).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    }
  });

  it("mounts the local cluster's dynamic config, which leaves task queues on the server's default partitions", () => {
    const temporal = service('temporal');
    const path = temporal.environment.DYNAMIC_CONFIG_FILE_PATH;
    expect(path).toBeDefined();
    // auto-setup resolves the path against /etc/temporal.
    const mount = bindMounts(temporal).find((m) => m.container === posix.join('/etc/temporal', path!));
    expect(mount, `a bind mount onto /etc/temporal/${path}`).toBeDefined();
    expect(existsSync(join(ROOT, mount!.host))).toBe(true);

    const DynamicConfigSchema = z.record(
      z.string(),
      z.array(z.object({ value: z.unknown(), constraints: z.record(z.string(), z.unknown()) })).min(1),
    );
    expect(join(ROOT, mount!.host)).toBe(CLUSTER_DYNAMIC_CONFIG);
    const dynamicConfig = DynamicConfigSchema.parse(parseYaml(read(mount!.host)));
    expect(Object.keys(dynamicConfig).filter((key) => key.startsWith('matching.numTaskqueue'))).toEqual([]);
  });

  it("registers leadsync's search attributes with their types in the init step", () => {
    const init = service('temporal-init');
    expect(interpolate(init.image ?? '')).toMatch(/^temporalio\/admin-tools:/);
    expect(init.environment.TEMPORAL_ADDRESS).toBe('temporal:7233');
    const scriptPath = init.entrypoint?.find((arg) => arg.endsWith('.sh'));
    const mount = bindMounts(init).find((m) => m.container === scriptPath);
    expect(mount, 'the entrypoint script is mounted from the repo').toBeDefined();
    const script = read(mount!.host);
    expect(script).toContain('temporal operator search-attribute create');
    for (const attribute of LEADSYNC_SEARCH_ATTRIBUTES) {
      expect(script).toContain(`${attribute.name}=${CLI_SEARCH_ATTRIBUTE_TYPES[attribute.type]}`);
    }
  });

  it('serves the Web UI on 8080 against the Temporal frontend', () => {
    const ui = service('temporal-ui');
    expect(interpolate(ui.image ?? '')).toMatch(/^temporalio\/ui:/);
    expect(ui.environment.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(ui.ports).toContain('127.0.0.1:8080:8080');
  });

  it('builds the workers from this repo and gives each the frontend, its config and a metrics endpoint', () => {
    const hostPorts = new Set<string>();
    for (const name of WORKERS) {
      const worker = service(name);
      expect(worker.build, name).toBe('.');
      expect(worker.command, `${name} runs the image's default command`).toBeUndefined();
      expect(worker.environment).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_NAMESPACE: 'default' });
      const configPath = worker.environment.LEADSYNC_CONFIG;
      expect(worker.volumes.map(interpolate).some((v) => v.split(':')[1] === configPath)).toBe(true);

      const bindAddress = worker.environment[METRICS_BIND_ADDRESS_ENV];
      expect(MetricsBindAddressSchema.safeParse(bindAddress).success, `${name} ${METRICS_BIND_ADDRESS_ENV}`).toBe(true);
      const containerPort = bindAddress!.slice(bindAddress!.lastIndexOf(':') + 1);
      const published = worker.ports.find((p) => p.endsWith(`:${containerPort}`));
      expect(published, `${name} publishes its metrics port`).toBeDefined();
      hostPorts.add(published!.split(':').at(-2)!);
    }
    expect(hostPorts.size, 'each worker publishes on its own host port').toBe(WORKERS.length);
  });

  it('mounts only repo files that exist, apart from the config the user supplies', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const { host } of bindMounts(svc)) {
        if (host === './leadsync.yaml') continue;
        expect(existsSync(join(ROOT, host)), `${name} mounts ${host}`).toBe(true);
      }
    }
  });

  it('runs the LeadSquared simulator only on request, from the same image', () => {
    const simulator = service('leadsquared-simulator');
    expect(simulator.profiles).toEqual(['simulator']);
    expect(simulator.build).toBe('.');
    expect(simulator.command?.slice(0, 2)).toEqual(['simulate', 'leadsquared']);
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((line) => line.trim() && !line.trimStart().startsWith('#'));
  const last = (instruction: string) => instructions.filter((line) => line.startsWith(`${instruction} `)).at(-1);
  const execForm = (line: string | undefined) =>
    line ? z.array(z.string()).parse(JSON.parse(line.slice(line.indexOf(' ') + 1))) : [];

  it('builds on node:20-slim with a locked install, compiling in a stage of its own', () => {
    const stages = instructions.filter((line) => line.startsWith('FROM '));
    expect(stages).toEqual(['FROM node:20-slim AS build', 'FROM node:20-slim']);
    expect(dockerfile).toMatch(/RUN npm ci\b/);
    for (const dir of ['src', 'workflows', 'activities', 'bin']) expect(dockerfile).toMatch(new RegExp(`COPY ${dir} `));
    expect(instructions).toContain('RUN npm run build');
    // The runtime stage: production dependencies only, and the build stage's dist/.
    const runtime = instructions.slice(instructions.indexOf('FROM node:20-slim'));
    expect(runtime).toContain('RUN npm ci --omit=dev && npm cache clean --force');
    expect(runtime).toContain('COPY --from=build /app/dist ./dist');
  });

  it("runs the worker command of leadsync's CLI by default, in exec form", () => {
    const argv = [...execForm(last('ENTRYPOINT')), ...execForm(last('CMD'))];
    expect(argv[0]).toBe('node');
    const script = argv.find((arg) => arg.endsWith('.ts') || arg.endsWith('.js'));
    expect(script).toBe(COMPILED_CLI);
    expect(argv.slice(1)).toEqual([script, 'worker']);
    // dist/ is built in the image, not in a checkout: the entry point is the compiled form of the CLI's source.
    expect(existsSync(join(ROOT, SOURCE_CLI))).toBe(true);
    expect(script).toBe(`dist/${SOURCE_CLI.replace(/\.ts$/, '.js')}`);
  });

  it('runs as an unprivileged user', () => {
    expect(last('USER')).toBe('USER node');
  });
});

describe('.dockerignore', () => {
  it('keeps dependencies, history and local secrets out of the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', '.git', '.env', '*.env', 'leadsync.yaml']));
  });
});
