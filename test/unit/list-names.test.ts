import { describe, expect, it } from 'vitest';
import { listNames } from '../../src/core/errors.js';

describe('names listed in a message', () => {
  it('shows the first twenty, then how many more', () => {
    const names = Array.from({ length: 25 }, (_, i) => `column${i + 1}`);

    expect(listNames(names)).toBe(`${names.slice(0, 20).join(', ')} and 5 more`);
  });

  it('cuts a long name to its start, and never shows what follows an = in one cut short', () => {
    const paragraph = 'a column named by a whole paragraph, which nobody wants to read on every rejected row';
    const variable = 'CRM_DATABASE_URL=postgres://leadsync:s3cret-password@db.internal:5432/crm';

    expect(listNames([paragraph, variable, 'SHORT=value'])).toBe(
      `${paragraph.slice(0, 60)}…, CRM_DATABASE_URL=…, SHORT=value`,
    );
  });
});
