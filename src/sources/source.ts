// What every source kind gives the activities: its columns, its chunks and its rows.
import type { ChunkRange, Cursor, FilePin } from '../core/source-refs.js';

/**
 * A row as read: the source's column values, or why it could not be read at all. A table's rows also carry their key
 * and, in incremental order, their version (the cursor column's value), both as PostgreSQL writes them in text: what
 * the row store remembers of a row that landed or is to be sent again (src/rejects/row-store.ts).
 */
export type SourceRow =
  { row: number; values: Record<string, string>; key?: string; version?: string } | { row: number; unreadable: string };

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
  /**
   * The rows with these keys as they are now, numbered from `firstRow` in the order of `keys`; a key no row has any
   * more is left out. Only sources whose rows have keys (a table).
   */
  readKeys?(keys: readonly string[], firstRow: number): AsyncIterable<SourceRow>;
  /** A file's identity and version now; sources with nothing to pin (a table: its key ranges) have none. */
  pin?(): Promise<FilePin>;
  /** Lets go of what the source holds open (a database pool); file sources hold nothing between calls. */
  close?(): Promise<void>;
}
