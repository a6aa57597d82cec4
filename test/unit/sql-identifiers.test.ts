import { describe, expect, it } from 'vitest';
import { quoteIdentifier, quoteQualifiedName } from '../../src/core/source-refs.js';

describe('names quoted as SQL identifiers', () => {
  it('doubles a double quote inside a name, so the name cannot end its quoting and carry SQL', () => {
    const forged = 'leads"; DROP TABLE victims; --';

    expect(quoteIdentifier(forged)).toBe('"leads""; DROP TABLE victims; --"');
    expect(quoteQualifiedName(`public.${forged}`)).toBe('"public"."leads""; DROP TABLE victims; --"');
  });

  it('quotes each part of a schema-qualified name as written', () => {
    expect(quoteQualifiedName('Sales.Leads_2024')).toBe('"Sales"."Leads_2024"');
  });
});
