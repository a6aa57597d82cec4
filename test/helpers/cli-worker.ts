import { TAG_SENDERS_PRELOAD } from './tag-senders.js';

/**
 * The arguments of a `leadsync worker` child process as a user runs it, run from the repository's root, with every
 * vendor request it makes naming the process and the activity's try (tag-senders.ts): the tests and the chaos suite
 * kill and count such workers.
 */
export function cliWorkerArguments(configPath: string, taskQueue: string): string[] {
  return [
    '--import',
    'tsx',
    '--import',
    TAG_SENDERS_PRELOAD,
    'src/cli/main.ts',
    'worker',
    '--config',
    configPath,
    '--task-queue',
    taskQueue,
  ];
}
