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

/**
 * Names listed in a message: the first `shown`, each cut to its start, then how many more. A file of 10,000 columns,
 * or of a column named by a whole paragraph, is not a reject of a megabyte on every bad row.
 */
export function listNames(names: readonly string[], shown = 20): string {
  const listed = names
    .slice(0, shown)
    .map((name) => (name.length > 60 ? `${name.slice(0, 60)}…` : name))
    .join(', ');
  return names.length > shown ? `${listed} and ${names.length - shown} more` : listed;
}
