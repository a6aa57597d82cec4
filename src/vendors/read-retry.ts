import { setTimeout as sleep } from 'node:timers/promises';
import { TransientError } from './errors.js';

/** Attempts of one idempotent read, and the pause before each retry: a few seconds in all. */
const READ_ATTEMPTS = 4;
const FIRST_PAUSE_MS = 250;

/**
 * Runs an idempotent read (a lookup, a page of a lead's activities) again in place when it fails transiently (a lost
 * answer, a 5xx), a few times with a short, doubling pause: a lossy link slows the chunk, and only a read that keeps
 * failing fails the chunk's attempt. Anything else (a rate limit, refused keys) goes straight to the caller.
 */
export async function retryRead<T>(read: () => Promise<T>, attempts = READ_ATTEMPTS): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (err) {
      if (!(err instanceof TransientError) || attempt >= attempts) throw err;
      await sleep(FIRST_PAUSE_MS * 2 ** (attempt - 1));
    }
  }
}
