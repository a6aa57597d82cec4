import { ApplicationFailure } from '@temporalio/common';
import { LogTimestamp } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/observability/redactor.js';
import { JsonLogger, type JsonLoggerOptions } from '../../src/observability/logger.js';

const SECRET = 'lsq-secret-9f8e7d';
const ACCESS_KEY = 'u$r/key"with\\quotes';

function capture(options: JsonLoggerOptions = {}) {
  const lines: string[] = [];
  const logger = new JsonLogger({
    sink: { write: (line: string) => lines.push(line) },
    redactor: new Redactor([SECRET, ACCESS_KEY]),
    now: () => new Date('2024-05-01T12:00:00.000Z'),
    ...options,
  });
  const events = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, events };
}

describe('JsonLogger', () => {
  it('writes one parseable JSON line per event, time, level and msg first', () => {
    const { logger, lines, events } = capture();
    logger.info('sync started', { vendor: 'leadsquared', rows: 120 });
    logger.error('multi\nline message');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line.endsWith('\n') && line.indexOf('\n') === line.length - 1).toBe(true);
    expect(events()[0]).toEqual({
      time: '2024-05-01T12:00:00.000Z',
      level: 'info',
      msg: 'sync started',
      vendor: 'leadsquared',
      rows: 120,
    });
    expect(Object.keys(events()[0]!).slice(0, 3)).toEqual(['time', 'level', 'msg']);
    expect(events()[1]).toMatchObject({ level: 'error', msg: 'multi\nline message' });
  });

  it('redacts a secret in the message', () => {
    const { logger, lines } = capture();
    logger.warn(`401 from https://api.leadsquared.com/v2/?secretKey=${SECRET}`);
    expect(lines[0]).not.toContain(SECRET);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      msg: '401 from https://api.leadsquared.com/v2/?secretKey=[REDACTED]',
    });
  });

  it('redacts secrets in nested fields, arrays and keys, even ones JSON would escape', () => {
    const { logger, lines, events } = capture();
    logger.info('request', {
      request: { headers: { 'x-LSQ-AccessKey': ACCESS_KEY, 'x-LSQ-SecretKey': SECRET }, tries: [SECRET, 'ok'] },
      [SECRET]: 'as a key',
    });
    expect(lines[0]).not.toContain(SECRET);
    expect(lines[0]).not.toContain(JSON.stringify(ACCESS_KEY).slice(1, -1));
    expect(events()[0]).toMatchObject({
      request: {
        headers: { 'x-LSQ-AccessKey': '[REDACTED]', 'x-LSQ-SecretKey': '[REDACTED]' },
        tries: ['[REDACTED]', 'ok'],
      },
      '[REDACTED]': 'as a key',
    });
  });

  it('keeps an error’s message, stack, cause and own fields, redacted', () => {
    const { logger, lines, events } = capture();
    const cause = new Error(`connect failed for key ${SECRET}`);
    const failure = ApplicationFailure.create({
      type: 'VendorAuthError',
      message: `rejected secretKey=${SECRET}`,
      nonRetryable: true,
      cause,
    });
    logger.error('activity failed', { error: failure });
    expect(lines[0]).not.toContain(SECRET);
    const error = events()[0]!.error as Record<string, unknown>;
    expect(error).toMatchObject({
      name: 'ApplicationFailure',
      message: 'rejected secretKey=[REDACTED]',
      type: 'VendorAuthError',
      nonRetryable: true,
      cause: { name: 'Error', message: 'connect failed for key [REDACTED]' },
    });
    expect(error.stack).toEqual(expect.stringContaining('rejected secretKey=[REDACTED]'));
    expect((error.cause as Record<string, unknown>).stack).toEqual(expect.stringContaining('[REDACTED]'));
  });

  it('survives values JSON cannot hold', () => {
    const { logger, events } = capture();
    const loop: Record<string, unknown> = { name: 'loop' };
    loop.self = loop;
    logger.info('odd values', { loop, big: 10n ** 20n, when: new Date(0), fn: () => 1, missing: undefined });
    expect(events()[0]).toEqual({
      time: '2024-05-01T12:00:00.000Z',
      level: 'info',
      msg: 'odd values',
      loop: { name: 'loop', self: '[circular]' },
      big: '100000000000000000000',
      when: '1970-01-01T00:00:00.000Z',
    });
  });

  it('drops events below its level and never lets a field replace time, level or msg', () => {
    const { logger, events } = capture({ level: 'WARN' });
    logger.debug('noise');
    logger.info('noise');
    logger.log('WARN', 'kept', { level: 'fake', msg: 'fake', time: 'fake', detail: 1 });
    expect(events()).toEqual([{ time: '2024-05-01T12:00:00.000Z', level: 'warn', msg: 'kept', detail: 1 }]);
  });

  it('takes the timestamp Temporal’s native core gives a forwarded log, and drops symbol keys', () => {
    const { logger, events } = capture();
    const nanos = BigInt(Date.parse('2024-01-02T03:04:05.678Z')) * 1_000_000n + 123n;
    logger.log('INFO', 'from core', { [LogTimestamp]: nanos, sdkComponent: 'core' });
    expect(events()[0]).toEqual({
      time: '2024-01-02T03:04:05.678Z',
      level: 'info',
      msg: 'from core',
      sdkComponent: 'core',
    });
  });

  it('binds fields in a child that shares the sink and the secrets', () => {
    const { logger, events } = capture();
    const child = logger.child({ worker: 'worker-1', account: 'acme' });
    child.info('polling', { account: 'override', key: SECRET });
    expect(events()).toEqual([
      {
        time: '2024-05-01T12:00:00.000Z',
        level: 'info',
        msg: 'polling',
        worker: 'worker-1',
        account: 'override',
        key: '[REDACTED]',
      },
    ]);
  });
});
