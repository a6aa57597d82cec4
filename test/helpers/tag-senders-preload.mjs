// `node --import tsx --import <this file>`: tags the vendor requests of a worker process (tag-senders.ts). Workflow
// threads inherit the flags but not tsx's hooks, and make no vendor requests, so the tag goes on in the main thread only.
import { isMainThread } from 'node:worker_threads';

if (isMainThread) await import('./tag-senders.ts');
