import { readFileSync, watch } from 'node:fs';
import { dirname } from 'node:path';

/** Quiet time after the last event before the file is read: an editor's save is a burst (write, rename, chmod). */
export const CONFIG_SETTLE_MS = 300;

/**
 * Calls `changed` when the text of the config file changes, once per burst of events. The file's directory is
 * watched, not the file: an editor that saves by writing a new file and renaming it over the old one replaces the
 * inode a watch on the file holds, and a Kubernetes ConfigMap swaps a symbolic link beside it; either is an event in
 * the directory. The text tells what changed, so another file's events there cost a read, never a reload. A file
 * that cannot be read counts as changed: the reload says why.
 */
export function watchConfig(path: string, changed: () => void, settleMs = CONFIG_SETTLE_MS): { close(): void } {
  let text = textOf(path);
  let timer: NodeJS.Timeout | undefined;
  const settled = () => {
    const now = textOf(path);
    if (now !== undefined && now === text) return;
    text = now;
    changed();
  };
  const watcher = watch(dirname(path), { persistent: false }, () => {
    clearTimeout(timer);
    timer = setTimeout(settled, settleMs);
  });
  return {
    close() {
      clearTimeout(timer);
      watcher.close();
    },
  };
}

function textOf(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
