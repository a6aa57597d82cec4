// What a file source checks of its file: that it is there, and still the version the sync prepared.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigError } from '../core/errors.js';
import type { SourceRefKind } from '../core/source-kind.js';
import type { FilePin } from '../core/source-refs.js';
import { admitSourceFile } from './boundary.js';
import type { SourceKind } from './source-kind.js';
import type { Source } from './source.js';

/**
 * A kind of file: opened by its real path once it is found under one of the config's `sources.files.roots`, its
 * path made absolute wherever the reference was written, since workers read it from their own directory.
 */
export function fileSourceKind<Ref extends { kind: string; path: string }>(
  refKind: SourceRefKind<Ref>,
  reader: (path: string) => Source,
  fileExtensions: readonly string[],
): SourceKind<Ref> {
  return {
    ...refKind,
    fileExtensions,
    open: async (ref, context) => reader(await admitSourceFile(ref.path, context.boundary)),
    anchor: (ref) => ({ ...ref, path: resolve(ref.path) }),
  };
}

/** The file's inode, size and modification time, as a sync pins it at prepare. */
export async function pinFile(path: string): Promise<FilePin> {
  const info = await stat(path, { bigint: true });
  return { inode: info.ino.toString(), size: Number(info.size), modifiedNs: info.mtimeNs.toString() };
}

/**
 * Fails when a file is no longer what the sync prepared: rows cut by byte range from another version would vanish,
 * repeat or shift. Not retryable: the file has to be synced anew as it is now.
 */
export function assertPinned(file: string, pinned: FilePin, now: FilePin): void {
  const changes = [
    now.inode !== pinned.inode ? 'replaced by another file' : undefined,
    now.size !== pinned.size ? `size ${pinned.size} -> ${now.size} bytes` : undefined,
    now.modifiedNs !== pinned.modifiedNs ? 'modified' : undefined,
  ].filter((change) => change !== undefined);
  if (changes.length > 0) {
    throw new ConfigError(
      `source file ${file} changed during the sync (${changes.join(', ')}): rows already read came from the ` +
        'version it had at prepare; start a new sync of the file as it is now',
    );
  }
}

/** Fails, naming the file and its kind (`CSV file`), when the file is missing or cannot be read. */
export async function assertReadable(what: string, path: string): Promise<void> {
  try {
    await stat(path);
  } catch {
    throw new ConfigError(`${what} ${path} does not exist or cannot be read`);
  }
}
