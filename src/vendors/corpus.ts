import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * A vendor contract corpus: every request and answer shape a vendor client relies on, one exchange per JSON file in
 * `src/vendors/<vendor>/corpus/`, each with where it comes from. Contract tests run every exchange through the client,
 * and hold the simulator to the same files, so neither can drift from the public record unseen.
 */

/** Where an exchange comes from: the vendor's page, or a client written by someone else (repository and file). */
export const CorpusSourceSchema = z.union([
  z.object({ page: z.url(), quote: z.string().optional() }).strict(),
  z
    .object({ repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/), path: z.string().min(1), quote: z.string().optional() })
    .strict(),
  z.object({ seed: z.string().min(1), quote: z.string().optional() }).strict(),
]);

/**
 * What the record shows of the answer:
 * - `documented`: the vendor's page (or the seed, or the vendor's published spec) shows this body: a source quotes it,
 *   naming every key of it;
 * - `independent-client`: a client or report written by someone else shows this body (repository and file, thread);
 * - `inferred`: the record shows part of it (the status, the text, the fields) and the rest follows from it: the note
 *   says which part is which;
 * - `assumed`: the record is silent: the client is tolerant here, and the note says how.
 */
export const CorpusStandingSchema = z.enum(['documented', 'independent-client', 'inferred', 'assumed']);

export const CorpusExchangeSchema = z
  .object({
    /** What the exchange shows, in a sentence: "bulk create-or-update, one row refused for a duplicate phone". */
    name: z.string().min(1),
    standing: CorpusStandingSchema,
    sources: z.array(CorpusSourceSchema).min(1),
    /** Why the client reads it as it does, where the record is silent or contradictory. */
    note: z.string().optional(),
    request: z
      .object({
        method: z.enum(['GET', 'POST', 'PUT', 'DELETE']),
        /** Relative to the account's base URL, query string included (no credentials). */
        path: z.string().min(1),
        body: z.unknown().optional(),
      })
      .strict(),
    response: z
      .object({
        status: z.number().int().min(100).max(599),
        headers: z.record(z.string(), z.string()).optional(),
        /** JSON, or a string for a body that is not JSON (plain text, HTML). */
        body: z.unknown(),
      })
      .strict(),
    /**
     * What the client must make of it: the call's failure kind (a VendorError kind), or one outcome per row sent
     * ('accepted' or 'rejected'), plus vendor-specific expectations (a rate-limit window, a stated maximum).
     */
    expect: z
      .object({
        failure: z
          .enum(['rate-limited', 'auth', 'transient', 'batch-too-large', 'unexpected-response', 'not-found'])
          .optional(),
        rows: z.array(z.enum(['accepted', 'rejected'])).optional(),
      })
      .catchall(z.unknown()),
    /** Whether the vendor's simulator can be made to give this answer (false for answers only a fault injects). */
    simulated: z.boolean().default(true),
  })
  .strict()
  .superRefine((exchange, ctx) => {
    if (exchange.standing === 'inferred' || exchange.standing === 'assumed') {
      if (!exchange.note) {
        ctx.addIssue({ code: 'custom', path: ['note'], message: `${exchange.standing}: say what it rests on` });
      }
    }
    if (exchange.standing !== 'documented') return;
    const quoted = exchange.sources.map((source) => source.quote ?? '').join('\n');
    const unshown = shownParts(exchange.response.body).filter((part) => !quotes(quoted, part));
    if (unshown.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['standing'],
        message: `documented, but no source quotes the body's ${unshown.join(', ')}: quote the page, or say what it is`,
      });
    }
  });
export type CorpusExchange = z.infer<typeof CorpusExchangeSchema>;

/** What a quote must show of a body to document it: its keys (a list's, its first element's), or its text. */
function shownParts(body: unknown): string[] {
  const shape = Array.isArray(body) ? (body as unknown[])[0] : body;
  if (typeof shape === 'string') return [shape];
  if (shape === null || typeof shape !== 'object') return [];
  return Object.keys(shape);
}

function quotes(quoted: string, part: string): boolean {
  if (!/^\w+$/.test(part)) return quoted.includes(part);
  return new RegExp(`\\b${part}\\b`).test(quoted);
}

/** Every exchange of a vendor's corpus folder, by file name, validated: a malformed fixture fails loudly. */
export function loadCorpus(directory: string): Map<string, CorpusExchange> {
  const exchanges = new Map<string, CorpusExchange>();
  for (const file of readdirSync(directory)
    .filter((name) => name.endsWith('.json'))
    .sort()) {
    const parsed = CorpusExchangeSchema.safeParse(JSON.parse(readFileSync(join(directory, file), 'utf8')));
    if (!parsed.success) {
      throw new Error(
        `${join(directory, file)}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    }
    exchanges.set(file.replace(/\.json$/, ''), parsed.data);
  }
  return exchanges;
}
