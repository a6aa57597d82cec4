import { describe, expect, it } from 'vitest';
import {
  AuthError,
  BatchRefusedError,
  BatchTooLargeError,
  NotFoundError,
  RateLimitedError,
  TransientError,
  UnexpectedResponseError,
} from '../../../errors.js';
import {
  bulkActivityResults,
  bulkLeadResults,
  fieldNamedIn,
  parseRateLimit,
  prospectIdOf,
  singleWriteResult,
  type Answer,
  type SentRow,
} from '../../classify.js';

const call = "LeadSquared account 'acme', POST LeadManagement.svc/Lead.CreateOrUpdate";
const answer = (status: number, body: unknown): Answer => ({ call, status, body });
const rateLimitBody = {
  Status: 'Error',
  ExceptionType: 'MXAPIRateLimitExceededException',
  ExceptionMessage: 'API calls exceeded the limit of 25 in 5 second(s)',
};
const row7: SentRow = { row: 7, fieldNames: ['EmailAddress', 'FirstName', 'mx_City'] };
const rows = (...numbers: number[]): SentRow[] => numbers.map((row) => ({ row, fieldNames: ['EmailAddress'] }));

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    if (err instanceof Error) return err;
  }
  throw new Error('expected a throw');
}

describe('LeadSquared rate limits', () => {
  it.each([429, 200, 400, 500])('recognises the rate-limit envelope on HTTP %i', (status) => {
    const err = thrown(() => singleWriteResult(answer(status, rateLimitBody), row7));

    expect(err).toBeInstanceOf(RateLimitedError);
    // The retry is the whole window, as the vendor names no time: the chunk waits it, the rest of the lane need not.
    expect(err).toMatchObject({ retryAfterMs: 5000, window: { limit: 25, seconds: 5 }, retryAfterStated: false });
    expect(err.message).toContain(call);
  });

  it('reads the limit from Message when the envelope carries it there, as the seed does', () => {
    const body = { Status: 'Error', Message: 'API calls exceeded the limit of 2 in 5 second(s)' };

    expect(thrown(() => singleWriteResult(answer(200, body), row7))).toMatchObject({
      kind: 'rate-limited',
      window: { limit: 2, seconds: 5 },
    });
  });

  it('treats a bare 429 as a rate limit of unstated window, retried after 5 s', () => {
    const err = thrown(() => prospectIdOf(answer(429, 'Too Many Requests')));

    expect(err).toBeInstanceOf(RateLimitedError);
    expect(err).toMatchObject({ retryAfterMs: 5000, window: undefined });
  });

  it('parses the window and retries after the whole window', () => {
    expect(parseRateLimit('API calls exceeded the limit of 1 in 5 second(s)')).toEqual({
      window: { limit: 1, seconds: 5 },
      retryAfterMs: 5000,
    });
    expect(parseRateLimit('API calls exceeded the limit of 3 in 0.5 second(s)').retryAfterMs).toBe(500);
    expect(parseRateLimit('slow down')).toEqual({ retryAfterMs: 5000 });
  });

  it('fails a whole bulk call when one of its rows was rate limited, rather than reject a row never looked at', () => {
    const body = [
      { RowNumber: 1, LeadId: 'a', LeadCreated: true },
      { RowNumber: 2, ...rateLimitBody },
    ];

    expect(thrown(() => bulkLeadResults(answer(200, body), rows(1, 2)))).toBeInstanceOf(RateLimitedError);
  });
});

describe('LeadSquared whole-call failures', () => {
  it.each([
    ['401', 401, { Status: 'Error', ExceptionType: 'MXInvalidAccessKeyException', ExceptionMessage: 'Invalid keys' }],
    ['403 with the envelope', 403, { Status: 'Error', ExceptionMessage: 'Access denied' }],
    ['an auth exception on 200', 200, { Status: 'Error', ExceptionType: 'MXUnAuthorizedAccessException' }],
  ])('maps %s to AuthError', (_case, status, body) => {
    const err = thrown(() => prospectIdOf(answer(status, body)));

    expect(err).toBeInstanceOf(AuthError);
    expect(err.message).toContain("account 'acme'");
  });

  it('tells a 403 from a proxy in front of LeadSquared (no envelope) from refused keys', () => {
    const err = thrown(() => prospectIdOf(answer(403, 'error code: 1010')));

    expect(err).toBeInstanceOf(UnexpectedResponseError);
    expect(err.message).toContain('not LeadSquared itself');
  });

  it('maps a bare 5xx (no envelope) to TransientError with the body', () => {
    const err = thrown(() => singleWriteResult(answer(503, 'Service Unavailable'), row7));

    expect(err).toBeInstanceOf(TransientError);
    expect(err.message).toContain('HTTP 503: Service Unavailable');
  });

  it('rejects a single row refused with an MX envelope on HTTP 500, with the vendor message', () => {
    const body = {
      Status: 'Error',
      ExceptionType: 'MXDuplicateEntryException',
      ExceptionMessage: 'A Lead with same Phone Number already exists.',
    };

    expect(singleWriteResult(answer(500, body), row7).outcome).toEqual({
      row: 7,
      status: 'rejected',
      reason: 'MXDuplicateEntryException: A Lead with same Phone Number already exists.',
    });
  });

  it.each([
    ['MXDuplicateEntryException', 'A Lead with same Phone Number already exists.'],
    ['MXInvalidInputException', 'Invalid value for FirstName'],
    ['MXMandatoryAttributeMissingException', "'EmailAddress' is mandatory"],
  ])(
    'rejects a single row refused with %s on HTTP 500, a refusal LeadSquared documents or clients show',
    (type, text) => {
      const body = { Status: 'Error', ExceptionType: type, ExceptionMessage: text };

      expect(singleWriteResult(answer(500, body), row7).outcome).toMatchObject({
        row: 7,
        status: 'rejected',
        reason: `${type}: ${text}`,
      });
    },
  );

  it.each([
    [
      'an exception of the server',
      { ExceptionType: 'NullReferenceException', ExceptionMessage: 'There was an error processing the request.' },
      'NullReferenceException: There was an error processing the request.',
    ],
    [
      'an MX type not known as a refusal',
      { ExceptionType: 'MXSqlException', ExceptionMessage: 'database timeout' },
      'MXSqlException: database timeout',
    ],
    ['no type at all', { ExceptionMessage: 'Something went wrong' }, 'Something went wrong'],
  ])(
    'retries a single write answered HTTP 500 in the envelope with %s, keeping the vendor message',
    (_c, fields, text) => {
      const err = thrown(() => singleWriteResult(answer(500, { Status: 'Error', ...fields }), row7));

      expect(err).toBeInstanceOf(TransientError);
      expect(err.message).toContain(`HTTP 500: ${text}`);
    },
  );

  it('retries a bulk call answered HTTP 503 in the envelope with an unknown type, one row or many', () => {
    const body = { Status: 'Error', ExceptionType: 'MXServiceUnavailableException', ExceptionMessage: 'try later' };

    expect(thrown(() => bulkLeadResults(answer(503, body), rows(4)))).toBeInstanceOf(TransientError);
    expect(thrown(() => bulkActivityResults(answer(503, body), rows(1, 2)))).toBeInstanceOf(TransientError);
  });

  it('still rejects a row refused in the envelope below 500, whatever the type', () => {
    const body = { Status: 'Error', ExceptionType: 'MXSomethingNewException', ExceptionMessage: 'bad mx_City' };

    expect(singleWriteResult(answer(400, body), row7).outcome).toMatchObject({ status: 'rejected', field: 'mx_City' });
  });

  it('retries a read refused with an envelope or a bare 5xx: a read changes nothing', () => {
    const body = { Status: 'Error', ExceptionType: 'MXSqlException', ExceptionMessage: 'database unavailable' };

    expect(thrown(() => prospectIdOf(answer(500, body)))).toBeInstanceOf(TransientError);
    expect(thrown(() => prospectIdOf(answer(502, '<html>Bad Gateway</html>')))).toBeInstanceOf(TransientError);
  });

  it('maps a 404 to NotFoundError pointing at the base URL', () => {
    const err = thrown(() => prospectIdOf(answer(404, 'Endpoint not found')));

    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.message).toContain('baseUrl');
  });
});

describe('LeadSquared bulk size refusals', () => {
  it('maps a 400 MXInvalidInputException naming a maximum to BatchTooLargeError with the maximum', () => {
    const body = {
      Status: 'Error',
      ExceptionType: 'MXInvalidInputException',
      ExceptionMessage: 'Request contains 60 leads; maximum allowed is 50',
    };
    const err = thrown(() => bulkLeadResults(answer(400, body), rows(1)));

    expect(err).toBeInstanceOf(BatchTooLargeError);
    expect(err).toMatchObject({ maxRows: 50 });
  });

  it('maps a 413 to BatchTooLargeError, with no maximum when none is named', () => {
    const err = thrown(() => bulkActivityResults(answer(413, 'Payload Too Large'), rows(1)));

    expect(err).toBeInstanceOf(BatchTooLargeError);
    expect(err).toMatchObject({ maxRows: undefined });
  });

  it('does not take a field length maximum on a single call for a batch size', () => {
    const body = {
      Status: 'Error',
      ExceptionType: 'MXInvalidInputException',
      ExceptionMessage: 'mx_City exceeds the maximum length of 200',
    };

    expect(singleWriteResult(answer(400, body), row7).outcome).toEqual({
      row: 7,
      status: 'rejected',
      field: 'mx_City',
      reason: 'MXInvalidInputException: mx_City exceeds the maximum length of 200',
    });
  });
});

describe('LeadSquared row outcomes', () => {
  it('accepts a single upsert and returns the ProspectID', () => {
    const result = singleWriteResult(answer(200, { Status: 'Success', Message: { Id: 'p-1', AffectedRows: 1 } }), row7);

    expect(result).toEqual({ outcome: { row: 7, status: 'accepted' }, id: 'p-1' });
  });

  it('rejects a single row with the vendor reason and the field it names', () => {
    const body = {
      Status: 'Error',
      ExceptionType: 'MXInvalidInputException',
      ExceptionMessage: 'Invalid value for FirstName',
    };

    expect(singleWriteResult(answer(400, body), row7).outcome).toEqual({
      row: 7,
      status: 'rejected',
      field: 'FirstName',
      reason: 'MXInvalidInputException: Invalid value for FirstName',
    });
  });

  it('matches bulk results to the rows sent by RowNumber, whatever their order', () => {
    const body = [
      { RowNumber: 3, LeadId: 'c', LeadCreated: false, LeadUpdated: true },
      {
        RowNumber: 2,
        LeadId: null,
        ExceptionType: 'MXDuplicateEntryException',
        ExceptionMessage: 'A lead with same EmailAddress already exists',
      },
      { RowNumber: 1, LeadId: 'a', LeadCreated: true },
    ];

    const results = bulkLeadResults(answer(200, body), rows(10, 11, 12));

    expect(results).toEqual([
      { outcome: { row: 10, status: 'accepted' }, id: 'a' },
      {
        outcome: {
          row: 11,
          status: 'rejected',
          field: 'EmailAddress',
          reason: 'MXDuplicateEntryException: A lead with same EmailAddress already exists',
        },
      },
      { outcome: { row: 12, status: 'accepted' }, id: 'c' },
    ]);
  });

  it.each([
    ['ErrorMessage', { RowNumber: 2, LeadId: null, ErrorMessage: 'Phone number is invalid' }],
    [
      'Errors[].Message',
      { RowNumber: 2, LeadCreated: false, Errors: [{ Code: 'E1042', Message: 'Phone number is invalid' }] },
    ],
    ['Errors as texts', { RowNumber: 2, Errors: ['Phone number is invalid'] }],
    ['a Message of another shape', { RowNumber: 2, LeadId: null, Message: { Description: 'Phone number is invalid' } }],
  ])('rejects a bulk row whose answer carries its error in %s with that message', (_case, row) => {
    const body = [{ RowNumber: 1, LeadId: 'a' }, row];

    const [, second] = bulkLeadResults(answer(200, body), [
      { row: 1, fieldNames: ['EmailAddress'] },
      { row: 2, fieldNames: ['EmailAddress', 'Phone'] },
    ]);

    expect(second!.outcome).toMatchObject({
      row: 2,
      status: 'rejected',
      field: 'Phone',
      reason: expect.stringMatching(/^Phone number is invalid \(LeadSquared's answer for this row: \{"RowNumber":2/),
    });
  });

  it('rejects a bulk row that carries only a Message and no id', () => {
    const [result] = bulkLeadResults(answer(200, [{ RowNumber: 1, Message: 'Invalid email' }]), rows(4));

    expect(result?.outcome).toEqual({ row: 4, status: 'rejected', reason: 'Invalid email' });
  });

  it('reads bulk activity results under Response', () => {
    const body = { Response: [{ RowNumber: 1, ProspectActivityId: 'act-1' }] };

    expect(bulkActivityResults(answer(200, body), rows(1))).toEqual([
      { outcome: { row: 1, status: 'accepted' }, id: 'act-1' },
    ]);
  });

  it('returns the ProspectID of a lookup, and undefined for []', () => {
    expect(prospectIdOf(answer(200, [{ ProspectID: 'p-9', FirstName: 'Ada', EmailAddress: 'a@b.co' }]))).toBe('p-9');
    expect(prospectIdOf(answer(200, []))).toBeUndefined();
  });
});

describe('LeadSquared undocumented answers', () => {
  it.each([
    ['a success body of the wrong shape', 200, { Status: 'Success' }],
    ['HTML', 200, '<html>maintenance</html>'],
    ['a 400 with no envelope', 400, 'Bad Request'],
  ])('fails a single write on %s', (_case, status, body) => {
    expect(thrown(() => singleWriteResult(answer(status, body), row7))).toBeInstanceOf(UnexpectedResponseError);
  });

  it('splits a bulk call refused whole with an envelope that names no size, and rejects a one-row call with it', () => {
    const body = { Status: 'Error', ExceptionType: 'MXInvalidInputException', ExceptionMessage: 'Malformed JSON' };

    expect(thrown(() => bulkLeadResults(answer(400, body), rows(1, 2)))).toBeInstanceOf(BatchRefusedError);
    expect(bulkLeadResults(answer(500, body), rows(4))[0]!.outcome).toMatchObject({ row: 4, status: 'rejected' });
  });

  it('adopts the maximum an over-size refusal names, on any status', () => {
    const body = { Status: 'Error', ExceptionType: 'MXException', ExceptionMessage: 'You can send up to 25 leads' };

    expect(thrown(() => bulkLeadResults(answer(500, body), rows(1, 2)))).toMatchObject({ maxRows: 25 });
  });

  it.each([
    ['a missing row', [{ RowNumber: 1, LeadId: 'a' }], /no result for this row/],
    [
      'a repeated row',
      [
        { RowNumber: 1, LeadId: 'a' },
        { RowNumber: 1, LeadId: 'b' },
      ],
      /no result for this row/,
    ],
    [
      'a row with neither id nor reason',
      [
        { RowNumber: 1, LeadId: 'a' },
        { RowNumber: 2, LeadCreated: true },
      ],
      /neither an id nor a reason: \{"RowNumber":2,"LeadCreated":true\}/,
    ],
    [
      'a row answer of unknown shape',
      [
        { RowNumber: 1, LeadId: 'a' },
        { Row: 'two', Errors: [{ Code: 'E1' }] },
      ],
      /neither an id nor a reason: \{"Row":"two"/,
    ],
    ['a row answer that is not an object', [{ RowNumber: 1, LeadId: 'a' }, 'E1042 failed'], /could not be read: E1042/],
  ])('rejects the row of a bulk answer with %s, with the raw answer, and keeps the rest', (_case, body, reason) => {
    const [first, second] = bulkLeadResults(answer(200, body), rows(1, 2));

    expect(first!.outcome).toEqual({ row: 1, status: 'accepted' });
    expect(second!.outcome).toMatchObject({ row: 2, status: 'rejected', reason: expect.stringMatching(reason) });
  });
});

describe('fieldNamedIn', () => {
  it('finds the earliest field named as a whole word', () => {
    expect(fieldNamedIn('mx_City_2 and FirstName are bad', ['FirstName', 'mx_City', 'mx_City_2'])).toBe('mx_City_2');
    expect(fieldNamedIn('Phone invalid', ['Mobile'])).toBeUndefined();
  });
});
