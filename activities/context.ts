import type { Client } from '@temporalio/client';
import { findAccount, type Account, type LoadedConfig } from '../src/config/accounts.js';
import { Redactor, resolveCredentials } from '../src/config/credentials.js';
import { GovernorClient } from '../src/governance/governor-client.js';
import { leasePool, postgresConnectionResolver, type PoolLease } from '../src/sources/postgres-connection.js';
import { openSource } from '../src/sources/registry.js';
import type { Source, SourceRef } from '../src/sources/types.js';
import { PauseWatches } from '../src/sync/pause-watch.js';
import type { RejectsRef } from '../src/sync/rejects-ref.js';
import { openRejectsSink, type RejectsSink } from '../src/sync/rejects-sink.js';
import { vendorFor } from '../src/vendors/registry.js';
import type { Vendor, VendorClient } from '../src/vendors/types.js';

/** What the activities need from the worker process that hosts them. Credentials never leave it. */
export interface ActivityDeps {
  config: LoadedConfig;
  /** For the account governors: activities reserve their call slots through it. */
  client: Client;
  workflowTaskQueue: string;
  env?: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
}

export interface ConnectedAccount {
  account: Account;
  vendor: Vendor;
  client: VendorClient;
}

/**
 * The worker's view of its accounts: one vendor client per account, kept for the life of the process so caches
 * (LeadSquared's ProspectIDs) and keep-alive connections are shared by every chunk.
 */
export class ActivityContext {
  readonly governor: GovernorClient;
  /** Which syncs with chunks here were paused: their calls not yet sent stop. */
  readonly pauses: PauseWatches;
  /** Every credential this worker holds: whatever an error says passes through it before leaving the process. */
  readonly redactor: Redactor;
  private readonly connected = new Map<string, ConnectedAccount>();
  /** One lease per database a chunk has used, held until close(): see postgresConnections. */
  private readonly pools = new Map<string, PoolLease>();

  constructor(readonly deps: ActivityDeps) {
    this.governor = new GovernorClient(deps.client, deps.workflowTaskQueue);
    this.pauses = PauseWatches.forClient(deps.client);
    this.redactor = new Redactor(knownSecrets(deps.config, deps.env ?? process.env));
  }

  /** Runs `work` on a source opened with this worker's connections, and closes it (a database pool lease) after. */
  async withSource<T>(ref: SourceRef, work: (source: Source) => Promise<T>): Promise<T> {
    const source = openSource(ref, { resolvePostgresConnection: this.postgresConnections() });
    try {
      return await work(source);
    } finally {
      await source.close?.();
    }
  }

  /** Runs `work` on the rejects sink a reference names (a table on this worker's connections, or files), closed after. */
  async withRejectsSink<T>(ref: RejectsRef, work: (sink: RejectsSink) => Promise<T>): Promise<T> {
    const sink = openRejectsSink(ref, { resolvePostgresConnection: this.postgresConnections() });
    try {
      return await work(sink);
    } finally {
      await sink.close();
    }
  }

  /**
   * Resolves a configured connection, and keeps its pool open for the worker's life. A chunk's own lease, released
   * when its read is done, would often be the pool's last: the pool would end between chunks and the next chunk
   * connect anew, a PostgreSQL session every few chunks at ten chunks a second.
   */
  private postgresConnections(): (name: string) => string {
    const resolve = postgresConnectionResolver(this.deps.config.postgresConnections, this.deps.env);
    return (name) => {
      const url = resolve(name);
      if (!this.pools.has(url)) this.pools.set(url, leasePool(url));
      return url;
    };
  }

  /** Lets go of the pools held for the worker's life; after the worker stops. */
  async close(): Promise<void> {
    const leases = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(leases.map((lease) => lease.release()));
  }

  account(name: string): Account {
    return findAccount(this.deps.config, name);
  }

  connect(name: string): ConnectedAccount {
    const cached = this.connected.get(name);
    if (cached) return cached;
    const account = this.account(name);
    const vendor = vendorFor(account.vendor);
    const credentials = resolveCredentials(account, this.deps.env ?? process.env);
    const client = vendor.connect(account, credentials, { timeoutMs: account.timeoutMs, fetch: this.deps.fetch });
    const connected = { account, vendor, client };
    this.connected.set(name, connected);
    return connected;
  }
}

function knownSecrets(config: LoadedConfig, env: NodeJS.ProcessEnv): string[] {
  return Object.values(config.accounts).flatMap((account) =>
    Object.values(account.credentials as Record<string, string>).flatMap((variable) => env[variable] ?? []),
  );
}
