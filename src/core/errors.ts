import type { z } from 'zod';

/** Bad configuration or input: fails before any vendor call, and says what to fix. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** One line per issue, each led by the dotted path of the bad value. */
export function formatZodIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `  - ${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('\n');
}
