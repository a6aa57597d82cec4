// Workflow-safe: zod only. The references of the file kinds, read whole every time (never in increments), cut by
// byte range and pinned at prepare (src/sources/).
import { z } from 'zod';
import type { SourceRefKind } from './source-kind.js';

/** A file of rows, by path: what its kind's reader makes of the bytes is the only difference between file kinds. */
function fileRefKind<Kind extends string>(kind: Kind, article: string) {
  const schema = z
    .object({
      kind: z.literal(kind),
      path: z.string().min(1, `${article} source needs a path`),
    })
    .strict();
  return {
    kind,
    schema,
    describe: (ref) => ({ address: `${kind}:${ref.path}`, label: ref.path, name: ref.path.split('/').at(-1)! }),
  } satisfies SourceRefKind<z.infer<typeof schema>>;
}

export const csvRef = fileRefKind('csv', 'a CSV');
export const ndjsonRef = fileRefKind('ndjson', 'an NDJSON');
