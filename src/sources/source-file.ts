// What a file source reads through: one descriptor per activity, found inside the boundary, pinned by fstat on it.
import type { FileHandle } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigError } from '../core/errors.js';
import type { SourceRefKind } from '../core/source-kind.js';
import type { FilePin } from '../core/source-refs.js';
import { openSourceFile, type SourceBoundary } from './boundary.js';
import type { SourceKind } from './source-kind.js';
import type { Source } from './source.js';

/** What one read of a file asks for: the size a file stream reads by default. */
const READ_BYTES = 64 * 1024;

/**
 * A source file opened once for one activity's work (see withSource): scans, reads and the pin all go through the
 * same descriptor, so what was checked against the boundary is what is read, and a file renamed over the path in
 * between is not. Closed with its source.
 */
export class SourceFile {
  private constructor(
    /** The real path, for messages. */
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  static async open(path: string, boundary: SourceBoundary): Promise<SourceFile> {
    const { handle, realPath } = await openSourceFile(path, boundary);
    return new SourceFile(realPath, handle);
  }

  /**
   * The bytes from `start` up to `end` (exclusive), read by position through the descriptor: reads of one file may
   * run side by side, and none of them ever closes it. `readBytes`: the most one read asks for.
   */
  async *bytes(start: number, end?: number, readBytes = READ_BYTES): AsyncGenerator<Buffer> {
    for (let position = start; end === undefined || position < end;) {
      const buffer = Buffer.allocUnsafe(end === undefined ? readBytes : Math.min(readBytes, end - position));
      const read = await this.readAt(buffer, position);
      if (read === 0) return;
      yield buffer.subarray(0, read);
      position += read;
    }
  }

  /** Up to `buffer.length` bytes from `position`; how many were read (0 at the end of the file). */
  async readAt(buffer: Buffer, position: number): Promise<number> {
    return (await this.handle.read(buffer, 0, buffer.length, position)).bytesRead;
  }

  /** The file's inode, size, modification and change times, as a sync pins it at prepare (fstat, not the path). */
  async pin(): Promise<FilePin> {
    const info = await this.handle.stat({ bigint: true });
    return {
      inode: info.ino.toString(),
      size: Number(info.size),
      modifiedNs: info.mtimeNs.toString(),
      changedNs: info.ctimeNs.toString(),
    };
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

/**
 * A kind of file: opened once its path is found under one of the config's `sources.files.roots`, its path made
 * absolute wherever the reference was written, since workers read it from their own directory.
 */
export function fileSourceKind<Ref extends { kind: string; path: string }>(
  refKind: SourceRefKind<Ref>,
  reader: (file: SourceFile) => Source,
  fileExtensions: readonly string[],
): SourceKind<Ref> {
  return {
    ...refKind,
    fileExtensions,
    open: async (ref, context) => reader(await SourceFile.open(ref.path, context.boundary)),
    anchor: (ref) => ({ ...ref, path: resolve(ref.path) }),
  };
}

/**
 * Fails when a file is no longer what the sync prepared: rows cut by byte range from another version would vanish,
 * repeat or shift. The change time catches a file rewritten in place whose size and modification time were put
 * back; a pin taken before pins had it (a sync prepared by an older worker) is checked without it. Not retryable:
 * the file has to be synced anew as it is now.
 */
export function assertPinned(file: string, pinned: FilePin, now: FilePin): void {
  const changes = pinChanges(pinned, now);
  if (changes.length > 0) {
    throw new ConfigError(
      `source file ${file} changed during the sync (${changes.join(', ')}): rows already read came from the ` +
        'version it had at prepare; start a new sync of the file as it is now',
    );
  }
}

/** How a file differs from its pin, in words; none when it is still the version pinned. */
export function pinChanges(pinned: FilePin, now: FilePin): string[] {
  return [
    now.inode !== pinned.inode ? 'replaced by another file' : undefined,
    now.size !== pinned.size ? `size ${pinned.size} -> ${now.size} bytes` : undefined,
    now.modifiedNs !== pinned.modifiedNs ? 'modified' : undefined,
    pinned.changedNs !== undefined && now.changedNs !== pinned.changedNs && now.modifiedNs === pinned.modifiedNs
      ? 'rewritten in place, or its permissions or links changed (its change time moved)'
      : undefined,
  ].filter((change) => change !== undefined);
}
