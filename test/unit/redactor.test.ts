import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { toActivityFailure } from '../../activities/failures.js';
import { parseConfig } from '../../src/config/accounts.js';
import { JsonLogger } from '../../src/observability/logger.js';
import { Redactor, urlPasswords } from '../../src/observability/redactor.js';
import { environmentRedactor, workerRedactor } from '../../src/config/secrets.js';

const PASSWORD = 'p@ss/w:rd 9';
const ENCODED_PASSWORD = encodeURIComponent(PASSWORD);
const DATABASE_URL = `postgres://sync:${ENCODED_PASSWORD}@db.internal:5432/crm`;
const PAYLOAD_KEY = 'q5V0n2n7mS1D8Qk3b8sE4n3o9bFhTqU9yQv6l2aX0cM=';

function config(temporal?: unknown) {
  return parseConfig(
    {
      ...(temporal === undefined ? {} : { temporal }),
      accounts: {
        acme: {
          vendor: 'leadsquared',
          plan: 'enterprise',
          baseUrl: 'https://api.leadsquared.com/v2/',
          credentials: { accessKeyEnv: 'ACME_ACCESS', secretKeyEnv: 'ACME_SECRET' },
        },
        outreach: {
          vendor: 'smartlead',
          plan: 'pro',
          baseUrl: 'https://server.smartlead.ai/api/v1',
          credentials: { apiKeyEnv: 'OUTREACH_API_KEY' },
        },
      },
      sources: { postgres: { crm: { urlEnv: 'CRM_DATABASE_URL' } } },
    },
    '/etc/leadsync.yaml',
  );
}

const env = {
  ACME_ACCESS: 'acme-access-1234',
  ACME_SECRET: 'acme-secret-5678',
  OUTREACH_API_KEY: 'sl-key-abcd',
  CRM_DATABASE_URL: DATABASE_URL,
  LEADSYNC_PAYLOAD_KEY: PAYLOAD_KEY,
  TEMPORAL_API_KEY: 'temporal-cloud-key',
  UNRELATED: 'visible-value',
};

describe('Redactor', () => {
  it('removes a secret raw, URL-encoded, form-encoded, URL-decoded and JSON-escaped', () => {
    const secret = 'a b/c"d%41';
    const redactor = new Redactor([secret]);
    for (const form of [secret, encodeURIComponent(secret), 'a+b%2Fc%22d%2541', 'a b/c"dA', 'a b/c\\"d%41']) {
      expect(redactor.redact(`before ${form} after`)).toBe('before [REDACTED] after');
    }
  });

  it('removes a connection URL whole, and its password alone in both spellings', () => {
    const redactor = new Redactor([DATABASE_URL]);
    expect(redactor.redact(`connect ${DATABASE_URL} failed`)).toBe('connect [REDACTED] failed');
    expect(redactor.redact(`password "${PASSWORD}" refused`)).toBe('password "[REDACTED]" refused');
    expect(redactor.redact(`user sync:${ENCODED_PASSWORD}`)).toBe('user sync:[REDACTED]');
    expect(redactor.redact('host db.internal, user sync')).toBe('host db.internal, user sync');
  });

  it('finds a password in the query string of a URL as well as in its userinfo', () => {
    expect(urlPasswords('postgres://db/crm?user=sync&password=hunter22')).toEqual(['hunter22']);
    expect(urlPasswords('postgres://sync:s%40fe@db/crm')).toEqual(['s@fe']);
    expect(urlPasswords('postgres://db/crm?sslmode=require')).toEqual([]);
    expect(urlPasswords('not a url')).toEqual([]);
    expect(new Redactor(['postgres://db/crm?password=hunter22']).redact('auth failed for hunter22')).toBe(
      'auth failed for [REDACTED]',
    );
  });

  it('removes each line of a secret over several lines alone too, as a PEM key quoted line by line', () => {
    const pem =
      '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\r\nBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n';
    const redactor = new Redactor([pem]);

    expect(redactor.redact('line 2: BKcwggSjAgEAAoIBAQC7')).toBe('line 2: [REDACTED]');
    expect(redactor.redact(`key ${JSON.stringify(pem)}`)).toBe('key "[REDACTED]"');
  });

  it('replaces the longest secret first, and leaves values too short to be secrets alone', () => {
    const redactor = new Redactor(['abcd', 'abcdefgh', 'xy', '']);
    expect(redactor.redact('abcdefgh abcd xy')).toBe('[REDACTED] [REDACTED] xy');
  });

  it("takes on another redactor's secrets, keeps its own, and still replaces the longest first", () => {
    const redactor = new Redactor(['abcd', 'old-secret']);
    redactor.absorb(new Redactor(['abcdefgh', 'new-secret']));
    expect(redactor.redact('abcdefgh abcd old-secret new-secret')).toBe('[REDACTED] [REDACTED] [REDACTED] [REDACTED]');
  });
});

describe('workerRedactor', () => {
  it("holds every secret the config names and leadsync's own, but no other variable", () => {
    const redactor = workerRedactor(config(), env);
    const text = Object.values(env).join(' | ');
    expect(redactor.redact(text)).toBe(
      '[REDACTED] | [REDACTED] | [REDACTED] | [REDACTED] | [REDACTED] | [REDACTED] | visible-value',
    );
    expect(redactor.redact(`password authentication failed: ${PASSWORD}`)).not.toContain(PASSWORD);
  });

  it('redacts every failure leaving an activity, an ApplicationFailure thrown as is too', () => {
    const redactor = workerRedactor(config(), env);
    const quoted = `mapping of EmailAddress: the source has no column 'email' (columns: CRM_DATABASE_URL=${DATABASE_URL}, LEADSYNC_PAYLOAD_KEY=${PAYLOAD_KEY})`;
    const plain = toActivityFailure(new Error(quoted), redactor);
    expect(plain.message).not.toContain(ENCODED_PASSWORD);
    expect(plain.message).not.toContain(PAYLOAD_KEY);
    expect(plain.message).toContain('CRM_DATABASE_URL=[REDACTED]');

    const thrown = ApplicationFailure.create({
      message: quoted,
      type: 'SourceError',
      nonRetryable: true,
      details: [{ url: DATABASE_URL }, `key ${PAYLOAD_KEY}`],
      cause: new Error(`while reading ${PAYLOAD_KEY}`),
    });
    const redacted = toActivityFailure(thrown, redactor) as ApplicationFailure;
    const everything = JSON.stringify([redacted.message, redacted.details, redacted.cause?.message]);
    expect(everything).not.toContain(ENCODED_PASSWORD);
    expect(everything).not.toContain(PAYLOAD_KEY);
    expect(redacted).toMatchObject({ type: 'SourceError', nonRetryable: true });
    expect(redacted.details).toEqual([{ url: '[REDACTED]' }, 'key [REDACTED]']);
  });
});

describe("the worker's redactor over its environment", () => {
  const pem = (body: string) => `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`;
  // Named by the config alone, or by leadsync, or by the shape of their names: each must be redacted. No value holds
  // another, so each is found by its own variable.
  const secrets = {
    ACME_TEMPORAL: 'tcld-from-config-6666',
    TEMPORAL_TLS_KEY_DATA: pem('MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcw'),
    TEMPORAL_TLS_CLIENT_KEY_DATA: pem('MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgw'),
    MAILER_API_KEY: 'mailer-key-1111',
    WEBHOOK_SECRET: 'webhook-secret-2222',
    SMTP_PASSWORD: 'smtp-password-3333',
    GITHUB_TOKEN: 'ghp_token_4444',
    lowercase_token: 'lower-token-5555',
  };
  const visible = { NOTE: 'visible-value', KEYBOARD: 'keyboard-layout', TOKENS_USED: '12345' };
  const workerEnv = { ...env, ...secrets, ...visible };
  const values = [...Object.values(env).filter((v) => v !== 'visible-value'), ...Object.values(secrets)];
  const quoted = Object.entries(workerEnv)
    .map(([name, value]) => `${name}=${value}`)
    .join(', ');

  it("holds the Temporal API key's variable, TLS key data and every *_KEY, *_SECRET, *_PASSWORD and *_TOKEN", () => {
    const redactor = workerRedactor(config({ apiKeyEnv: 'ACME_TEMPORAL' }), workerEnv);

    const redacted = redactor.redact(quoted);

    for (const value of values) {
      for (const line of value.split('\n').filter(Boolean)) expect(redacted).not.toContain(line);
    }
    expect(redacted).toContain('NOTE=visible-value, KEYBOARD=keyboard-layout, TOKENS_USED=12345');
  });

  it('lets none of them into a log line or an activity failure', () => {
    const redactor = workerRedactor(config({ apiKeyEnv: 'ACME_TEMPORAL' }), workerEnv);
    const lines: string[] = [];
    const logger = new JsonLogger({ redactor, sink: { write: (line: string) => lines.push(line) } });

    logger.error(`source failed: ${quoted}`, { error: new Error(quoted), env: workerEnv });
    const failure = toActivityFailure(new Error(`mapping: no column 'email' (columns: ${quoted})`), redactor);
    const texts = { 'log line': lines.join('\n'), failure: failure.message };

    expect(lines).toHaveLength(1);
    for (const [where, text] of Object.entries(texts)) {
      for (const value of values) {
        for (const form of [value, JSON.stringify(value).slice(1, -1)]) {
          expect(text.includes(form), `${where} holds ${JSON.stringify(value)}`).toBe(false);
        }
      }
      expect(text).toContain('ACME_TEMPORAL=[REDACTED], TEMPORAL_TLS_KEY_DATA=[REDACTED], ');
    }
  });
});

describe('environmentRedactor', () => {
  it('holds variables named like secrets and URLs with passwords, for errors the CLI prints', () => {
    const redactor = environmentRedactor({
      ...env,
      SOME_TOKEN: 'tok-0000',
      APP_DB: 'postgres://db/x?password=pw-1234',
    });
    expect(redactor.redact('tok-0000 pw-1234 sl-key-abcd temporal-cloud-key visible-value')).toBe(
      '[REDACTED] [REDACTED] [REDACTED] [REDACTED] visible-value',
    );
  });
});
