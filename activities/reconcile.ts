import { setMaxListeners } from 'node:events';
import { activityInfo } from '@temporalio/activity';
import { z } from 'zod';
import { ConfigError } from '../src/core/errors.js';
import { compareLead } from '../src/core/drift.js';
import { MappingSchema } from '../src/core/mapping.js';
import { RunIdSchema, type RejectsOwner } from '../src/core/rejects-ref.js';
import { ShareSchema } from '../src/core/contract.js';
import { RECONCILE_PRIORITY, type ChunkDrift } from '../src/core/reconcile.js';
import { ChunkRangeSchema, FilePinSchema, START } from '../src/core/source-refs.js';
import { SourceRefSchema } from '../src/core/source-registry.js';
import {
  readVendorCopy,
  writeChunkDrift,
  writeDriftReport,
  writeVendorCopy,
  type DriftLine,
} from '../src/rejects/drift.js';
import type { LeadReader, Pace, VendorLead } from '../src/vendors/types.js';
import { readChunkRows } from './chunk-rows.js';
import type { ActivityContext, ConnectedAccount } from './context.js';
import { toActivityFailure } from './failures.js';
import { withHeartbeats } from './heartbeat.js';

/** What every reconciliation activity is asked: checked, as anyone who can run a worker can schedule it. */
const ReconcileScopeSchema = z.object({
  /** The reconciliation's workflow id: its drift files are its own. */
  reconcileId: z.string().min(1),
  runId: RunIdSchema.optional(),
  account: z.string().min(1),
  target: z.record(z.string(), z.unknown()),
  share: ShareSchema,
});

export const VendorCopyRequestSchema = ReconcileScopeSchema;
export type VendorCopyRequest = z.infer<typeof VendorCopyRequestSchema>;

export const ReconcileChunkSchema = ReconcileScopeSchema.extend({
  source: SourceRefSchema,
  mapping: MappingSchema.optional(),
  chunk: ChunkRangeSchema,
  pin: FilePinSchema.optional(),
});
export type ReconcileChunk = z.infer<typeof ReconcileChunkSchema>;

export const DriftReportRequestSchema = ReconcileScopeSchema.extend({
  source: SourceRefSchema,
  mapping: MappingSchema.optional(),
  pin: FilePinSchema.optional(),
});
export type DriftReportRequest = z.infer<typeof DriftReportRequestSchema>;

/** Rows per chunk a reconciliation cuts: about one SmartLead page, a few LeadSquared windows of lookups at a share. */
export const RECONCILE_CHUNK_ROWS = 100;

/**
 * A listing vendor's copy of the target's leads, read page by page at the reconciliation's share and kept beside its
 * drift for the chunks to look their leads up in: how many. Undefined for a vendor that reads by email.
 */
export async function copyVendorLeads(
  context: ActivityContext,
  request: VendorCopyRequest,
): Promise<number | undefined> {
  try {
    return await withHeartbeats(async (signal) => {
      // Whose files these are is checked before any vendor call: a forged request spends no quota.
      const owner = ownerOf(request);
      const connected = context.connect(request.account);
      const reader = readerOf(connected);
      if (reader.by !== 'list') return undefined;
      const pace = paceOf(context, connected, request.share, signal);
      const leads: VendorLead[] = [];
      for (let offset: number | undefined = 0; offset !== undefined;) {
        const page: { leads: VendorLead[]; next?: number } = await reader.read(request.target, offset, pace);
        leads.push(...page.leads);
        offset = page.next;
      }
      await writeVendorCopy(context.deps.config.rejectsDirectory, owner, leads);
      return leads.length;
    });
  } catch (err) {
    throw toActivityFailure(err, context.redactor);
  }
}

/**
 * Reads one chunk of the source as the sync would (mapping, the vendor's checks: a row it would reject is not
 * compared), reads the vendor's copy of its leads (by email, each lookup paced at the reconciliation's share, or from
 * the listed copy), compares each lead's fields and writes the chunk's drift. A lead's first row in the chunk is
 * the one compared, as a sync sends only the first.
 */
export async function reconcileChunk(context: ActivityContext, task: ReconcileChunk): Promise<ChunkDrift> {
  try {
    return await withHeartbeats(async (signal) => {
      const owner = ownerOf(task);
      const connected = context.connect(task.account);
      const { vendor } = connected;
      const read = await context.withSource(
        task.source,
        (source) => readChunkRows(source, vendor, task.mapping, task.chunk, 'leads'),
        task.pin,
      );
      const key = (email: string) => email.trim().toLowerCase();
      const firsts = new Map<string, (typeof read.leads)[number]>();
      for (const lead of read.leads) if (!firsts.has(key(lead.email))) firsts.set(key(lead.email), lead);
      const leads = [...firsts.values()];
      const held = await vendorCopies(
        context,
        connected,
        task,
        signal,
        leads.map((lead) => lead.email),
      );
      const lines: DriftLine[] = [];
      const drifted: number[] = [];
      let missing = 0;
      let differing = 0;
      for (const lead of leads) {
        const drift = compareLead(lead.fields, held.get(key(lead.email))?.fields, vendor.emailField);
        if (drift === undefined) continue;
        drifted.push(lead.row);
        if (drift.kind === 'missing') {
          missing++;
          lines.push({ row: lead.row, email: lead.email, drift: 'missing' });
        } else {
          differing++;
          for (const f of drift.fields) lines.push({ row: lead.row, email: lead.email, drift: 'differs', ...f });
        }
      }
      await writeChunkDrift(context.deps.config.rejectsDirectory, owner, task.chunk.firstRow, lines);
      return { checked: leads.length, missing, differing, drifted };
    });
  } catch (err) {
    throw toActivityFailure(err, context.redactor);
  }
}

/**
 * Merges the drift report. A listing vendor's leads that no source row has (read anew here, no vendor call) go last,
 * as `extra`: how many, and where the report is.
 */
export async function writeDrift(
  context: ActivityContext,
  request: DriftReportRequest,
): Promise<{ driftFile: string; extra: number }> {
  try {
    return await withHeartbeats(async () => {
      const { rejectsDirectory } = context.deps.config;
      const owner = ownerOf(request);
      const copy = await readVendorCopy(rejectsDirectory, owner);
      const extra: DriftLine[] = [];
      if (copy) {
        const { vendor } = context.connect(request.account);
        await context.withSource(
          request.source,
          async (source) => {
            for (let cursor = START, done = false; !done;) {
              const scan = await source.scan(cursor, [10_000]);
              for (const chunk of scan.chunks) {
                const { leads } = await readChunkRows(source, vendor, request.mapping, chunk, 'leads');
                for (const lead of leads) copy.delete(lead.email.trim().toLowerCase());
              }
              ({ cursor, done } = scan);
            }
          },
          request.pin,
        );
        for (const lead of copy.values()) extra.push({ email: lead.email, drift: 'extra' });
      }
      return { driftFile: await writeDriftReport(rejectsDirectory, owner, extra), extra: extra.length };
    });
  } catch (err) {
    throw toActivityFailure(err, context.redactor);
  }
}

/** The vendor's copies of these leads by lower-case email: looked up (paced), or from the run's listed copy. */
async function vendorCopies(
  context: ActivityContext,
  connected: ConnectedAccount,
  task: ReconcileChunk,
  signal: AbortSignal,
  emails: string[],
): Promise<Map<string, VendorLead>> {
  const reader = readerOf(connected);
  if (reader.by === 'list') return listedCopy(context, ownerOf(task));
  // Each lookup waiting for its slot listens for the stop: a chunk of many lookups is not a listener leak.
  const stopped = AbortSignal.any([signal]);
  setMaxListeners(emails.length + 10, stopped);
  const found = await reader.read(emails, paceOf(context, connected, task.share, stopped));
  return new Map(found.map((lead) => [lead.email.trim().toLowerCase(), lead]));
}

/**
 * The run's listed copy, read from its file once per worker and run rather than once per chunk: a campaign of a
 * million leads is read once, not once for each of its ten thousand chunks. Only the latest run's is kept.
 */
const listedCopies = new WeakMap<
  ActivityContext,
  { key: string; copy: Promise<Map<string, VendorLead> | undefined> }
>();

async function listedCopy(context: ActivityContext, owner: RejectsOwner): Promise<Map<string, VendorLead>> {
  const key = `${owner.syncId}\u0000${owner.runId ?? ''}`;
  let cached = listedCopies.get(context);
  if (cached?.key !== key) {
    cached = { key, copy: readVendorCopy(context.deps.config.rejectsDirectory, owner) };
    listedCopies.set(context, cached);
  }
  const copy = await cached.copy.catch((err: unknown) => {
    listedCopies.delete(context);
    throw err;
  });
  if (!copy) {
    listedCopies.delete(context);
    throw new ConfigError("the vendor's copy of the leads was not taken before the reconciliation's chunks");
  }
  return copy;
}

function readerOf({ account, client }: ConnectedAccount): LeadReader {
  if (!client.readLeads) throw new ConfigError(`${account.vendor} cannot read leads back: it cannot be reconciled`);
  return client.readLeads;
}

/**
 * Every read-back call at a slot the account's governor grants, on the lane its endpoint spends, at the share and at
 * a reconciliation's priority: only slots no sync wants.
 */
function paceOf(context: ActivityContext, { account }: ConnectedAccount, share: number, signal: AbortSignal): Pace {
  return (call, lane = 'general') =>
    context.governor.paced(account, lane, share, call, { signal, priority: RECONCILE_PRIORITY });
}

function ownerOf(request: { reconcileId: string; runId?: string | undefined }): RejectsOwner {
  const caller = activityInfo().workflowExecution?.workflowId;
  if (caller !== request.reconcileId) {
    throw new ConfigError('reconcileId must be the id of the workflow that schedules the activity');
  }
  return { syncId: request.reconcileId, ...(request.runId ? { runId: request.runId } : {}) };
}
