import type { z } from 'zod';

/**
 * A signal's or an update handler's argument as its schema reads it, or undefined. Anyone who can signal a workflow
 * can send anything, and a handler that throws fails the workflow task again and again (or, for an
 * ApplicationFailure, fails the workflow): so this never throws, not even for an argument that throws when looked
 * into (a plain payload refused under LEADSYNC_REQUIRE_ENCRYPTED reads as such a value).
 */
export function readMessage<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> | undefined {
  try {
    const parsed = schema.safeParse(raw);
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** How far a time a message names may lie from the receiver's clock: worker clocks drift, not by minutes. */
export const MESSAGE_CLOCK_SKEW_MS = 10 * 60 * 1000;

/** The longest wait a message may impose: SmartLead's longest window is an hour, LeadSquared's five seconds. */
export const MAX_MESSAGE_WAIT_MS = 60 * 60 * 1000;

/** Whether `at` (epoch ms) lies within minutes of `now`, as a time a live worker reports must. */
export function nearNow(at: number, now: number): boolean {
  return Math.abs(at - now) <= MESSAGE_CLOCK_SKEW_MS;
}
