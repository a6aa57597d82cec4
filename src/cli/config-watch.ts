import { readFileSync, watch } from 'node:fs';
import { dirname, join } from 'node:path';
import { accountFileNames, type LoadedConfig } from '../config/accounts.js';

/** Quiet time after the last event before the files are read: an editor's save is a burst (write, rename, chmod). */
export const CONFIG_SETTLE_MS = 300;

/**
 * Calls `changed` when the text of the config file or of its account files changes, once per burst of events. The
 * file's directory is watched, not the file: an editor that saves by writing a new file and renaming it over the old
 * one replaces the inode a watch on the file holds, and a Kubernetes ConfigMap swaps a symbolic link beside it; either
 * is an event in the directory. The text tells what changed, so another file's events there cost a read, never a
 * reload. Files that cannot be read count as changed: the reload says why.
 */
export function watchConfig(
  config: Pick<LoadedConfig, 'path' | 'accountFiles'>,
  changed: () => void,
  settleMs = CONFIG_SETTLE_MS,
): { close(): void } {
  let text = textOf(config);
  let timer: NodeJS.Timeout | undefined;
  const settled = () => {
    const now = textOf(config);
    if (now !== undefined && now === text) return;
    text = now;
    changed();
  };
  const directories = [dirname(config.path), ...(config.accountFiles ? [config.accountFiles] : [])];
  const soon = () => {
    clearTimeout(timer);
    timer = setTimeout(settled, settleMs);
  };
  // A watch that fails (its directory removed) ends; the reload it leads to says what is missing, and SIGHUP still
  // reloads.
  const watchers = directories.map((directory) => watch(directory, { persistent: false }, soon).on('error', soon));
  return {
    close() {
      clearTimeout(timer);
      for (const watcher of watchers) watcher.close();
    },
  };
}

/** The config file's text and each account file's name and text, as one. */
function textOf(config: Pick<LoadedConfig, 'path' | 'accountFiles'>): string | undefined {
  try {
    const files = config.accountFiles
      ? accountFileNames(config.accountFiles).map((name) => join(config.accountFiles!, name))
      : [];
    return [config.path, ...files].map((file) => `${file}\n${readFileSync(file, 'utf8')}`).join('\n');
  } catch {
    return undefined;
  }
}
