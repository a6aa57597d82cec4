// What every source kind gives the activities: its columns, its chunks and its rows.
import type { ChunkRange, Cursor, FilePin } from '../core/source-refs.js';

/**
 * A row as read: the source's column values, or why it could not be read at all. `key`: the row's key in a source
 * that has one (a table's key column, as text), which finds the row again wherever it moved; files have none.
 */
export type SourceRow =
  { row: number; values: Record<string, string>; key?: string } | { row: number; unreadable: string };

/** A row found by its key: its column values. */
export interface KeyedValues {
  key: string;
  values: Record<string, string>;
}

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
  /** The rows with these keys, in that order, leaving out keys no row has; only sources whose rows have keys. */
  readKeys?(keys: readonly string[]): AsyncIterable<KeyedValues>;
  /** A file's identity and version now; sources with nothing to pin (a table: its key ranges) have none. */
  pin?(): Promise<FilePin>;
  /** Lets go of what the source holds open (a database pool); file sources hold nothing between calls. */
  close?(): Promise<void>;
}
