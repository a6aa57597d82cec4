import { describe, expect, it } from 'vitest';
import { CorpusExchangeSchema } from '../../src/vendors/corpus.js';

/** A 401 in LeadSquared's envelope, marked documented on a page that gives the status and no body. */
const statusOnly = {
  name: 'wrong keys: HTTP 401',
  standing: 'documented',
  sources: [
    { page: 'https://apidocs.leadsquared.com/error-handling/', quote: '401 Unauthorized: invalid credentials' },
  ],
  request: { method: 'POST', path: 'LeadManagement.svc/Lead.CreateOrUpdate' },
  response: { status: 401, body: { Status: 'Error', ExceptionType: 'MXUnAuthorizedAccessException' } },
  expect: { failure: 'auth' },
};

function issuesOf(exchange: unknown): string[] {
  const parsed = CorpusExchangeSchema.safeParse(exchange);
  return parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('an exchange of a vendor contract corpus', () => {
  it('refuses an exchange marked documented when no source quotes its body, naming what is not shown', () => {
    expect(issuesOf(statusOnly)).toEqual([
      "standing: documented, but no source quotes the body's Status, ExceptionType: quote the page, or say what it is",
    ]);
  });

  it('takes it as documented once a source quotes every key of the body', () => {
    const quoted = {
      ...statusOnly,
      sources: [{ page: statusOnly.sources[0]!.page, quote: '{"Status":"Error", "ExceptionType":"MX..."}' }],
    };

    expect(issuesOf(quoted)).toEqual([]);
  });

  it('takes it as inferred with a note saying which part the page shows, and refuses it without one', () => {
    const inferred = { ...statusOnly, standing: 'inferred', note: 'The status is documented; the body is not.' };
    const { note: _note, ...silent } = inferred;

    expect(issuesOf(inferred)).toEqual([]);
    expect(issuesOf(silent)).toEqual(['note: inferred: say what it rests on']);
  });
});
