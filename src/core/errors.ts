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
 * or of a column named by a whole paragraph, is not a reject of a megabyte on every bad row. A name cut short never
 * shows what follows an `=` in it: a "column" of a file that is really an environment (`NAME=value`) would show the
 * start of a secret, which the redactor, knowing only whole secrets, could not find.
 */
export function listNames(names: readonly string[], shown = 20): string {
  const listed = names.slice(0, shown).map(cutName).join(', ');
  return names.length > shown ? `${listed} and ${names.length - shown} more` : listed;
}

const LONGEST_NAME_SHOWN = 60;

function cutName(name: string): string {
  if (name.length <= LONGEST_NAME_SHOWN) return name;
  const start = name.slice(0, LONGEST_NAME_SHOWN);
  const assignment = start.indexOf('=');
  return `${assignment < 0 ? start : start.slice(0, assignment + 1)}…`;
}
