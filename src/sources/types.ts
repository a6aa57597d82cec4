import { z } from 'zod';

/**
 * Where a sync reads its rows. Only this reference crosses Temporal: never the rows themselves.
 * Each source kind owns what a position means (CSV: a byte offset; a table: a key).
 */
export const CsvSourceSchema = z
  .object({
    kind: z.literal('csv'),
    path: z.string().min(1, 'a CSV source needs a path'),
  })
  .strict();

export const SourceRefSchema = z.discriminatedUnion('kind', [CsvSourceSchema]);
export type SourceRef = z.infer<typeof SourceRefSchema>;

export const PositionSchema = z.union([z.number(), z.string()]);
export type Position = z.infer<typeof PositionSchema>;

/** A run of consecutive rows, by reference: `rows` rows from `from` (inclusive) to `to` (exclusive). */
export const ChunkRangeSchema = z.object({
  from: PositionSchema,
  to: PositionSchema,
  /** 1-based number of the first data row, for progress and the rejects report. */
  firstRow: z.number().int().positive(),
  rows: z.number().int().nonnegative(),
});
export type ChunkRange = z.infer<typeof ChunkRangeSchema>;

/** Where the next scan starts: the position after the last row handed out, and that row's number + 1. */
export const CursorSchema = z.object({ position: PositionSchema.nullable(), nextRow: z.number().int().positive() });
export type Cursor = z.infer<typeof CursorSchema>;
export const START: Cursor = { position: null, nextRow: 1 };

/** A row as read: the source's column values, or why it could not be read at all. */
export type SourceRow = { row: number; values: Record<string, string> } | { row: number; unreadable: string };

export interface ScanResult {
  chunks: ChunkRange[];
  cursor: Cursor;
  done: boolean;
}

export interface Source {
  columns(): Promise<string[]>;
  countRows(): Promise<number>;
  /** Cuts the next chunks, of the sizes asked for, starting at the cursor. */
  scan(cursor: Cursor, sizes: readonly number[]): Promise<ScanResult>;
  read(range: ChunkRange): AsyncIterable<SourceRow>;
}
