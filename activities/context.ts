import { EventEmitter, once } from 'node:events';
import type { Client } from '@temporalio/client';
import { findAccount, type Account, type LoadedConfig } from '../src/config/accounts.js';
import { resolveCredentials } from '../src/config/credentials.js';
import type { AccountChanges } from '../src/config/reload.js';
import { ConfigError } from '../src/core/errors.js';
import { Redactor } from '../src/observability/redactor.js';
import { workerRedactor } from '../src/config/secrets.js';
import { CallPacer } from '../src/governance/call-pacer.js';
import {
  leasePool,
  postgresConnectionResolver,
  postgresLookBack,
  type PoolLease,
} from '../src/sources/postgres-connection.js';
import { assertPinned } from '../src/sources/source-file.js';
import { openSource } from '../src/sources/registry.js';
import type { FilePin } from '../src/core/source-refs.js';
import { describeSource, type SourceRef } from '../src/core/source-registry.js';
import type { Source } from '../src/sources/source.js';
import { FirstRowIndex } from '../src/rejects/first-rows.js';
import { PauseWatches } from './pause-watch.js';
import type { RejectsRef } from '../src/core/rejects-ref.js';
import { openRejectsSink } from '../src/rejects/open-sink.js';
import { rejectedRowsOf } from '../src/rejects/rejected-rows.js';
import type { RejectsSink } from '../src/rejects/types.js';
import { openRowStore, recurrenceScope, type Recurring, type RowStore } from '../src/rejects/row-store.js';
import type { VendorRegistry } from '../src/vendors/registry.js';
import type { Transport } from '../src/vendors/transport.js';
import type { Vendor, VendorClient } from '../src/vendors/types.js';

/** What the activities need from the worker process that hosts them. Credentials never leave it. */
export interface ActivityDeps {
  /**
   * The running config: a reload (ActivityContext.reload) replaces it, so read it where it is used, never keep it. A
   * chunk keeps the account it connected with (connect()) to its end.
   */
  config: LoadedConfig;
  /** For the account governors: activities reserve their call slots through it. */
  client: Client;
  workflowTaskQueue: string;
  /** The vendors the config's accounts were read against: each account's client comes from its vendor here. */
  vendors: VendorRegistry;
  env?: NodeJS.ProcessEnv;
  /** How vendor calls go out (VendorClientOptions.transport). */
  transport?: Transport;
  /** The worker's redactor, shared with its logger so both learn a reload's secrets; the config's own otherwise. */
  redactor?: Redactor;
}

export interface ConnectedAccount {
  account: Account;
  vendor: Vendor;
  client: VendorClient;
  /** The credentials the client was made with, to tell a rotated key: kept in memory only, as the client holds them. */
  fingerprint: string;
}

/**
 * The worker's view of its accounts: one vendor client per account, kept for the life of the process so caches
 * (LeadSquared's ProspectIDs) and keep-alive connections are shared by every chunk.
 */
export class ActivityContext {
  readonly governor: CallPacer;
  /** Which syncs with chunks here were paused: their calls not yet sent stop. */
  readonly pauses: PauseWatches;
  /** Every secret this worker holds: whatever an error says passes through it before leaving the process. */
  readonly redactor: Redactor;
  /** The first row of each lead of the syncs this worker scans or pushes: one version of a lead per sync. */
  readonly firstRows: FirstRowIndex;
  private readonly connected = new Map<string, ConnectedAccount>();
  /** Accounts a reload removed, until one adds them back: their syncs' chunks not yet started are refused. */
  private readonly removed = new Set<string>();
  /** Tells syncs waiting for an account (accountAdded) that a reload happened. */
  private readonly reloads = new EventEmitter();
  /** One lease per database a chunk has used, held until close(): see postgresConnections. */
  private readonly pools = new Map<string, PoolLease>();

  constructor(readonly deps: ActivityDeps) {
    this.governor = new CallPacer(deps.client, deps.workflowTaskQueue);
    this.pauses = PauseWatches.forClient(deps.client);
    this.redactor = deps.redactor ?? workerRedactor(deps.config, deps.env ?? process.env);
    // Every sync waiting for its account listens; none is a leak.
    this.reloads.setMaxListeners(0);
    this.firstRows = new FirstRowIndex(deps.config.rejectsDirectory);
  }

  /**
   * Runs `work` on a source opened inside this worker's boundary with its connections, and closes it (a database
   * pool lease) after. Given the pin prepare took, a file must still be that file before the work and after it, so
   * rows read from a file rewritten in between never go anywhere.
   */
  async withSource<T>(ref: SourceRef, work: (source: Source) => Promise<T>, pinned?: FilePin): Promise<T> {
    const source = await openSource(ref, {
      boundary: this.deps.config.boundary,
      resolvePostgresConnection: this.postgresConnections(),
      postgresLookBackSeconds: postgresLookBack(this.deps.config),
      rejectedRows: (of) => rejectedRowsOf(this.rejectsSink(), of),
    });
    const check = async () => {
      if (pinned && source.pin) assertPinned(describeSource(ref).label, pinned, await source.pin());
    };
    try {
      await check();
      const result = await work(source);
      await check();
      return result;
    } finally {
      await source.close?.();
    }
  }

  /**
   * Where this worker's config sends rejects. Only the config decides it: a directory or table named in a workflow's
   * payload is never written to.
   */
  rejects(): RejectsRef {
    const { config } = this.deps;
    return {
      rejectsDirectory: config.rejectsDirectory,
      ...(config.rejectsTable ? { rejectsTable: config.rejectsTable } : {}),
    };
  }

  /** Runs `work` on this worker's rejects sink (a table on its connections, or files), closed after. */
  async withRejectsSink<T>(work: (sink: RejectsSink) => Promise<T>): Promise<T> {
    const sink = this.rejectsSink();
    try {
      return await work(sink);
    } finally {
      await sink.close();
    }
  }

  private rejectsSink(): RejectsSink {
    return openRejectsSink(this.rejects(), { resolvePostgresConnection: this.postgresConnections() });
  }

  /**
   * The scope a sync's rows recur in, when it converges with the runs before it: this worker's config names a row
   * store, and the source is a table read in increments (its cursor column gives each row's version).
   */
  recurrenceScope(sync: Recurring): string | undefined {
    return this.deps.config.convergence ? recurrenceScope(sync) : undefined;
  }

  /** Runs `work` on this worker's row store (the config's `convergence`), closed after. */
  async withRowStore<T>(work: (store: RowStore) => Promise<T>): Promise<T> {
    const { convergence } = this.deps.config;
    if (!convergence) throw new Error('the config names no row store (convergence)');
    const store = openRowStore(convergence, this.postgresConnections());
    try {
      return await work(store);
    } finally {
      await store.close();
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

  /**
   * The account as the running config has it. One a reload removed is refused for good (a chunk of its sync fails
   * rather than write to an account the operator took away); one never configured is "not yet" (UnknownAccountError,
   * retried): a reload, or another worker, may have it.
   */
  account(name: string): Account {
    if (this.removed.has(name)) {
      throw new ConfigError(
        `account '${name}' was removed from ${this.deps.config.path} by a config reload while this sync used it: ` +
          'its work not yet started is not sent (what landed stays); add the account back and start the sync again',
      );
    }
    return findAccount(this.deps.config, name);
  }

  /**
   * Waits up to `waitMs` for a reload to add the account; true once the running config names it. A sync waits for
   * its account this way (prepareSync), so one added while it waits starts within moments of the reload.
   */
  async accountAdded(name: string, waitMs: number, signal: AbortSignal): Promise<boolean> {
    // A timer of its own, not AbortSignal.timeout: combined by AbortSignal.any and held by nothing else, that signal
    // is collected as garbage on Node 20 and never fires, and the wait would outlast its attempt.
    const wait = new AbortController();
    const timer = setTimeout(() => wait.abort(), waitMs);
    const cancel = () => wait.abort();
    signal.addEventListener('abort', cancel, { once: true });
    try {
      while (!Object.hasOwn(this.deps.config.accounts, name)) {
        if (signal.aborted) return false;
        await once(this.reloads, 'reloaded', { signal: wait.signal });
      }
      return true;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', cancel);
    }
  }

  /**
   * Takes a reloaded config (checked whole before: reloadChanges, requireSecrets): new chunks connect anew to a changed
   * account, with its new keys, address and plan, while those running keep the connection they started with.
   */
  reload(next: LoadedConfig, changes: AccountChanges): void {
    for (const name of [...changes.changed, ...changes.removed]) this.connected.delete(name);
    for (const name of changes.removed) this.removed.add(name);
    for (const name of changes.added) this.removed.delete(name);
    this.redactor.absorb(workerRedactor(next, this.deps.env ?? process.env));
    this.deps.config = next;
    this.reloads.emit('reloaded');
  }

  /**
   * The account's vendor client. Its credentials are read again each time (a secret file is a small read, a variable
   * none): a key rotated in its mounted file takes a new client for the chunks that start after, and joins the
   * redactor before any call can echo it.
   */
  connect(name: string): ConnectedAccount {
    const account = this.account(name);
    const credentials = resolveCredentials(account, this.deps.env ?? process.env);
    const fingerprint = JSON.stringify(credentials);
    const cached = this.connected.get(name);
    if (cached && cached.account === account && cached.fingerprint === fingerprint) return cached;
    this.redactor.absorb(new Redactor(Object.values(credentials)));
    const vendor = this.deps.vendors.named(account.vendor);
    const client = vendor.connect(account, credentials, {
      timeoutMs: account.timeoutMs,
      maxAnswerBytes: account.maxAnswerBytes,
      transport: this.deps.transport,
    });
    const connected = { account, vendor, client, fingerprint };
    this.connected.set(name, connected);
    return connected;
  }
}
