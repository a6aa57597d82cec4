// `npm run cluster`: a real Temporal cluster on this machine, beside the dev server: the Temporal server (the version
// the pinned CLI embeds) on the local PostgreSQL, its schemas set up with the server's own SQL tool, and the Web UI
// server. The Go programs are built with `go install` into ~/.cache/leadsync on first use. Point leadsync at it with
// TEMPORAL_ADDRESS; stop it with Ctrl-C (the databases stay, so the next start carries on where this one stopped).
import { Command } from 'commander';
import { LEADSYNC_SEARCH_ATTRIBUTES } from '../src/core/search-attributes.js';
import {
  CLUSTER_DATABASE,
  localClusterPostgres,
  startTemporalCluster,
  type ClusterTls,
} from '../tools/temporal/cluster.js';

interface Options {
  port: string;
  uiPort: string;
  ip: string;
  database: string;
  pgHost?: string;
  pgPort?: string;
  namespace: string;
  runDir: string;
  headless?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  tlsServerName?: string;
  requireClientCert?: boolean;
}

const program = new Command('temporal-cluster')
  .description('a Temporal server on PostgreSQL and its Web UI, on this machine')
  .option('--port <port>', 'gRPC frontend port', '7233')
  .option('--ui-port <port>', 'Web UI port', '8080')
  .option('--ip <ip>', 'interface to bind', '127.0.0.1')
  .option(
    '--database <name>',
    'PostgreSQL database of the history store; visibility uses <name>_visibility',
    CLUSTER_DATABASE,
  )
  .option('--pg-host <host>', 'PostgreSQL host (trust auth or PGPASSWORD; PGUSER names the role)', '127.0.0.1')
  .option('--pg-port <port>', 'PostgreSQL port', '5432')
  .option('--namespace <name>', 'namespace to register', 'default')
  .option('--run-dir <dir>', "the server's config files and logs", '.leadsync/cluster')
  .option('--headless', 'no Web UI')
  .option('--tls-cert <file>', "the frontend's certificate (PEM); with --tls-key and --tls-ca, the frontend serves TLS")
  .option('--tls-key <file>', "the frontend's private key (PEM)")
  .option('--tls-ca <file>', 'the CA that signed the server certificate and the client certificates to accept')
  .option('--tls-server-name <name>', 'the name on the server certificate', 'localhost')
  .option('--require-client-cert', 'mutual TLS: refuse clients without a certificate the CA signed')
  .action(async (options: Options) => {
    const postgres = {
      ...localClusterPostgres(options.database),
      ...(options.pgHost ? { host: options.pgHost } : {}),
      ...(options.pgPort ? { port: Number(options.pgPort) } : {}),
      ...(process.env.PGPASSWORD ? { password: process.env.PGPASSWORD } : {}),
    };
    const cluster = await startTemporalCluster({
      postgres,
      runDir: options.runDir,
      ip: options.ip,
      port: Number(options.port),
      uiPort: Number(options.uiPort),
      namespace: options.namespace,
      headless: options.headless,
      searchAttributes: LEADSYNC_SEARCH_ATTRIBUTES,
      tls: clusterTls(options),
      logLevel: 'warn',
    });
    process.stdout.write(
      `Temporal ${cluster.address} (namespace ${cluster.namespace}, PostgreSQL ${postgres.host}:${postgres.port}/` +
        `${postgres.database})${cluster.uiUrl ? `, Web UI ${cluster.uiUrl}` : ''}; log ${cluster.logFile}\n` +
        `  TEMPORAL_ADDRESS=${cluster.address}${cluster.uiUrl ? ` TEMPORAL_UI_URL=${cluster.uiUrl}` : ''} npx leadsync worker\n`,
    );
    const stop = () => {
      process.stdout.write('stopping the Temporal cluster\n');
      void cluster.stop().then(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

function clusterTls(options: Options): ClusterTls | undefined {
  const given = [options.tlsCert, options.tlsKey, options.tlsCa].filter(Boolean).length;
  if (given === 0) {
    if (options.requireClientCert) throw new Error('--require-client-cert needs --tls-cert, --tls-key and --tls-ca');
    return undefined;
  }
  if (given < 3) throw new Error('TLS needs all of --tls-cert, --tls-key and --tls-ca');
  return {
    certFile: options.tlsCert!,
    keyFile: options.tlsKey!,
    caFile: options.tlsCa!,
    serverName: options.tlsServerName ?? 'localhost',
    requireClientAuth: options.requireClientCert ?? false,
  };
}

program.parseAsync().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
