import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import type { RejectsOwner } from '../core/rejects-ref.js';
import type { VendorLead } from '../vendors/types.js';
import { RejectsWriteError, csvField, syncFileName, syncRejectsDirectory, within, writeAtomically } from './files.js';

/**
 * A reconciliation's drift, kept as its rejects are: a file per chunk under the run's directory (`drift/`), merged in
 * row order into `<reconciliation>.<run>.drift.csv` beside the rejects reports, with the vendor's leads that left the
 * source last. Always files, in the rejects directory, whichever sink takes rejects.
 */
export const DriftLineSchema = z.object({
  /** The source row; absent for a lead the vendor holds that no source row has. */
  row: z.number().int().positive().optional(),
  email: z.string(),
  drift: z.enum(['missing', 'differs', 'extra']),
  field: z.string().optional(),
  source: z.string().optional(),
  vendor: z.string().optional(),
});
export type DriftLine = z.infer<typeof DriftLineSchema>;

const VENDOR_COPY = 'vendor-leads.ndjson';

function driftDirectory(rejectsDirectory: string, owner: RejectsOwner): string {
  return join(syncRejectsDirectory(rejectsDirectory, owner), 'drift');
}

export function driftReportPath(rejectsDirectory: string, owner: RejectsOwner): string {
  const run = owner.runId === undefined ? '' : `.${syncFileName(owner.runId)}`;
  return within(rejectsDirectory, `${syncFileName(owner.syncId)}${run}.drift.csv`);
}

/** A chunk's drift, replacing an earlier attempt's. */
export async function writeChunkDrift(
  rejectsDirectory: string,
  owner: RejectsOwner,
  firstRow: number,
  lines: readonly DriftLine[],
): Promise<void> {
  if (!Number.isSafeInteger(firstRow) || firstRow < 1) {
    throw new ConfigError(`the chunk's first row ${JSON.stringify(firstRow)} is not a row number`);
  }
  const directory = driftDirectory(rejectsDirectory, owner);
  const file = join(directory, `${firstRow}.ndjson`);
  try {
    if (lines.length === 0) return await rm(file, { force: true });
    await mkdir(directory, { recursive: true });
    await writeAtomically(file, lines.map((line) => JSON.stringify(line)).join('\n') + '\n');
  } catch (err) {
    throw new RejectsWriteError(`the drift of the chunk at row ${firstRow} cannot be written to ${directory}`, err);
  }
}

/** The vendor's copy of a listing vendor's leads, taken once per run: each chunk looks its leads up in it. */
export async function writeVendorCopy(rejectsDirectory: string, owner: RejectsOwner, leads: VendorLead[]) {
  const directory = syncRejectsDirectory(rejectsDirectory, owner);
  try {
    await mkdir(directory, { recursive: true });
    await writeAtomically(join(directory, VENDOR_COPY), leads.map((lead) => JSON.stringify(lead)).join('\n') + '\n');
  } catch (err) {
    throw new RejectsWriteError(`the vendor's copy of the leads cannot be written to ${directory}`, err);
  }
}

const VendorLeadSchema = z.object({ email: z.string(), fields: z.record(z.string(), z.string()) });

/** The vendor's copy by lower-case email, or undefined when the run took none (the vendor reads by email). */
export async function readVendorCopy(
  rejectsDirectory: string,
  owner: RejectsOwner,
): Promise<Map<string, VendorLead> | undefined> {
  const text = await readFile(join(syncRejectsDirectory(rejectsDirectory, owner), VENDOR_COPY), 'utf8').catch(
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    },
  );
  if (text === undefined) return undefined;
  const leads = text
    .split('\n')
    .filter(Boolean)
    .map((line) => VendorLeadSchema.parse(JSON.parse(line)));
  return new Map(leads.map((lead) => [lead.email.trim().toLowerCase(), lead]));
}

/** Merges the chunks' drift in row order, then `extra` (leads that left the source), into the report; its path. */
export async function writeDriftReport(
  rejectsDirectory: string,
  owner: RejectsOwner,
  extra: readonly DriftLine[],
): Promise<string> {
  const directory = driftDirectory(rejectsDirectory, owner);
  const chunks = (await readdir(directory).catch(() => [] as string[]))
    .filter((f) => /^\d+\.ndjson$/.test(f))
    .map((f) => Number(f.slice(0, -'.ndjson'.length)))
    .sort((a, b) => a - b);
  const report = driftReportPath(rejectsDirectory, owner);
  const temporary = `${report}.${randomBytes(6).toString('hex')}.tmp`;
  const line = (d: DriftLine) =>
    [
      d.row ?? '',
      csvField(d.email),
      d.drift,
      csvField(d.field ?? ''),
      csvField(d.source ?? ''),
      csvField(d.vendor ?? ''),
    ]
      .join(',')
      .concat('\n');
  try {
    const out = createWriteStream(temporary);
    const write = async (text: string) => {
      if (!out.write(text)) await new Promise<void>((resolveDrain) => out.once('drain', () => resolveDrain()));
    };
    await write('row,email,drift,field,source,vendor\n');
    for (const firstRow of chunks) {
      const text = await readFile(join(directory, `${firstRow}.ndjson`), 'utf8');
      for (const json of text.split('\n').filter(Boolean)) await write(line(DriftLineSchema.parse(JSON.parse(json))));
    }
    for (const d of extra) await write(line(d));
    out.end();
    await finished(out);
    await rename(temporary, report);
  } catch (err) {
    await rm(temporary, { force: true });
    throw new RejectsWriteError(`the drift report ${report} cannot be written`, err);
  }
  return report;
}
