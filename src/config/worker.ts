import { z } from 'zod';
import { TaskQueueModeSchema } from '../core/task-queues.js';

/** How a worker process lays out its task queues: the config file's `worker` key. */
export const WorkerConfigSchema = z
  .object({
    /** `per-account` (the default) or `shared`: see TaskQueueModeSchema and docs/operating.md. */
    taskQueues: TaskQueueModeSchema.default('per-account'),
    /**
     * Shared queues only: the worker sets each shared queue's per-fairness-key rate limit, so the server holds every
     * (account, lane) to 4 times its ceiling as a per-account queue does. The server enforces it only with its dynamic
     * config `matching.enableFairness` on; without it the limit is stored and ignored (docs/scale-fairness.md).
     */
    fairnessKeyBackstop: z.boolean().default(false),
    /**
     * Shared queues only: chunks one worker process runs at once per shared queue. Chunks mostly wait for their slot,
     * so it bounds the accounts this process serves at once (about 4 to 10 chunks per syncing lane), not their pace.
     */
    maxConcurrentChunks: z.number().int().positive().max(10_000).default(1_000),
  })
  .strict()
  .refine((worker) => worker.taskQueues === 'shared' || !worker.fairnessKeyBackstop, {
    path: ['fairnessKeyBackstop'],
    message: 'a per-key backstop is for taskQueues: shared (per-account queues carry their own)',
  })
  .default({ taskQueues: 'per-account', fairnessKeyBackstop: false, maxConcurrentChunks: 1_000 });
export type WorkerConfig = z.infer<typeof WorkerConfigSchema>;
