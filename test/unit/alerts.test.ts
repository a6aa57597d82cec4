import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { alertSignature, slackRequest, webhookRequest } from '../../activities/alert-bodies.js';
import { parseConfig } from '../../src/config/accounts.js';
import { resolveAlertTarget } from '../../src/config/alerts.js';
import { workerRedactor } from '../../src/config/secrets.js';
import {
  AlertTriggersSchema,
  alertSummary,
  schedulePausedAlert,
  syncEndAlerts,
  syncFailedAlerts,
  type SyncEnd,
} from '../../src/core/alerts.js';
import { ConfigError } from '../../src/core/errors.js';

const PATH = '/etc/leadsync/leadsync.yaml';

/** Triggers as the config reads them: failures and stuck rows on, thresholds as given. */
const triggers = (given: Record<string, unknown> = {}) => AlertTriggersSchema.parse(given);

/** 100 rows read in 20 s on a plan of 10 rows/s: twice the 10 s the plan needs. */
function end(overrides: Partial<SyncEnd> = {}): SyncEnd {
  return {
    syncId: 'sync-1',
    account: 'acme',
    at: '2026-12-07T12:00:00.000Z',
    counts: { read: 100, accepted: 90, rejected: 6, unattributed: 4 },
    totalRows: 100,
    seconds: 20,
    cancelled: false,
    ceilingRowsPerSecond: 10,
    ...overrides,
  };
}

const fired = (events: { trigger: string }[]) => events.map((e) => e.trigger);

describe('which alerts a sync raises', () => {
  it('raises none without triggers (the config has no alerts section)', () => {
    expect(syncEndAlerts(undefined, end({ retrySet: { size: 5, stuckRows: 5 } }))).toEqual([]);
    expect(syncFailedAlerts({}, { syncId: 's', account: 'a', at: '2026-12-07T12:00:00Z', failure: 'x' })).toEqual([]);
  });

  it('raises rejects at the row count or the share of rows read, refused rows named or not', () => {
    expect(fired(syncEndAlerts(triggers({ rejects: { rows: 10 } }), end()))).toEqual(['rejects']);
    expect(fired(syncEndAlerts(triggers({ rejects: { rows: 11 } }), end()))).toEqual([]);
    expect(fired(syncEndAlerts(triggers({ rejects: { share: 0.1 } }), end()))).toEqual(['rejects']);
    expect(fired(syncEndAlerts(triggers({ rejects: { share: 0.11 } }), end()))).toEqual([]);
    expect(fired(syncEndAlerts(triggers({ rejects: { rows: 50, share: 0.1 } }), end()))).toEqual(['rejects']);
    const none = end({ counts: { read: 100, accepted: 100, rejected: 0, unattributed: 0 } });
    expect(fired(syncEndAlerts(triggers({ rejects: { share: 0.01 } }), none))).toEqual([]);
  });

  it("raises slow-run past `times` the plan's estimate for the rows read, and not below minSeconds", () => {
    const [slow] = syncEndAlerts(triggers({ slowRun: { times: 1.5, minSeconds: 0 } }), end());
    expect(slow).toMatchObject({ trigger: 'slow-run', seconds: 20, estimateSeconds: 10 });
    expect(fired(syncEndAlerts(triggers({ slowRun: { times: 2, minSeconds: 0 } }), end()))).toEqual([]);
    expect(fired(syncEndAlerts(triggers({ slowRun: { times: 1.5 } }), end()))).toEqual([]);
    expect(
      fired(syncEndAlerts(triggers({ slowRun: { times: 1.5, minSeconds: 0 } }), end({ cancelled: true }))),
    ).toEqual([]);
  });

  it('raises rows-stuck when the retry set holds stuck rows, unless turned off', () => {
    const stuck = end({ retrySet: { size: 12, stuckRows: 3, oldestFailedAt: '2026-12-01T00:00:00Z' } });
    expect(syncEndAlerts(triggers(), stuck)).toEqual([
      expect.objectContaining({ trigger: 'rows-stuck', retrySet: stuck.retrySet }),
    ]);
    expect(fired(syncEndAlerts(triggers(), end({ retrySet: { size: 12, stuckRows: 0 } })))).toEqual([]);
    expect(fired(syncEndAlerts(triggers({ rowsStuck: false }), stuck))).toEqual([]);
  });

  it("raises sync-failed by the plan's triggers, and always before a plan (the worker's config decides)", () => {
    const failed = { syncId: 's', account: 'a', at: '2026-12-07T12:00:00Z', failure: 'x'.repeat(5000) };
    expect(syncFailedAlerts({ alerts: triggers() }, failed)).toEqual([
      expect.objectContaining({ trigger: 'sync-failed' }),
    ]);
    expect(syncFailedAlerts({ alerts: triggers({ syncFailed: false }) }, failed)).toEqual([]);
    const [beforePlan] = syncFailedAlerts(undefined, failed);
    expect(beforePlan?.failure).toHaveLength(2000);
  });

  it('says in one line what happened, with the figures', () => {
    const [rejects, slow, stuck] = syncEndAlerts(
      triggers({ rejects: { rows: 1 }, slowRun: { times: 1, minSeconds: 0 } }),
      end({ retrySet: { size: 3, stuckRows: 3, oldestFailedAt: '2026-12-01T00:00:00Z' } }),
    );
    expect(alertSummary(rejects!)).toBe('leadsync: sync sync-1 into acme had 10 of 100 rows refused (10%)');
    expect(alertSummary(slow!)).toBe(
      'leadsync: sync sync-1 into acme took 20.0 s for 100 rows, 2.0 times the 10.0 s the plan needs',
    );
    expect(alertSummary(stuck!)).toBe(
      'leadsync: 3 rows of sync sync-1 into acme are stuck in the retry set, failing since 2026-12-01T00:00:00Z',
    );
    const paused = schedulePausedAlert({
      scheduleId: 'hourly',
      syncId: 'hourly-2026',
      account: 'acme',
      at: '2026-12-07T12:00:00Z',
      failure: 'unknown table',
    });
    expect(alertSummary(paused)).toBe(
      'leadsync: schedule hourly is paused: its run hourly-2026 into acme failed: unknown table',
    );
  });
});

describe('alert bodies', () => {
  const [event] = syncFailedAlerts(undefined, {
    syncId: 's',
    account: 'a',
    at: '2026-12-07T12:00:00Z',
    failure: 'bad key',
  });

  it('signs a webhook body with HMAC-SHA256 of the timestamp and the body', () => {
    const request = webhookRequest(event!, 'topsecret', 'delivery-1', 1_700_000_000_500);
    const timestamp = request.headers['x-leadsync-timestamp']!;
    expect(timestamp).toBe('1700000000');
    const expected = createHmac('sha256', 'topsecret').update(`${timestamp}.${request.body}`).digest('hex');
    expect(request.headers['x-leadsync-signature']).toBe(`sha256=${expected}`);
    expect(alertSignature('topsecret', timestamp, request.body)).toBe(expected);
    expect(JSON.parse(request.body)).toMatchObject({
      trigger: 'sync-failed',
      summary: expect.stringContaining('bad key'),
    });
    expect(request.body).not.toContain('topsecret');
  });

  it('gives Slack its text and blocks', () => {
    const body = JSON.parse(slackRequest(event!).body) as { text: string; blocks: unknown[] };
    expect(body.text).toBe('leadsync: sync s into a failed: bad key');
    expect(body.blocks).toHaveLength(2);
  });
});

describe('the alerts setting', () => {
  const webhook = { kind: 'webhook', url: 'https://hooks.example.com/leadsync', secretEnv: 'ALERT_SECRET' };
  const config = (alerts: unknown) => parseConfig({ accounts: {}, alerts }, PATH);

  function failure(alerts: unknown): string {
    try {
      config(alerts);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message;
    }
    throw new Error('the config was accepted');
  }

  it('reads targets and triggers, failures and stuck rows on by default', () => {
    const loaded = config({ targets: { ops: webhook, team: { kind: 'slack', urlEnv: 'SLACK_URL' } } });
    expect(loaded.alerts?.triggers).toEqual({ syncFailed: true, schedulePaused: true, rowsStuck: true });
    expect(config({ targets: { ops: webhook }, triggers: { slowRun: { times: 3 } } }).alerts?.triggers.slowRun).toEqual(
      { times: 3, minSeconds: 60 },
    );
  });

  it('names the key of each mistake', () => {
    expect(failure({ targets: { ops: { ...webhook, url: 'http://hooks.example.com/x' } } })).toContain(
      'alerts.targets.ops.url: must be https://',
    );
    expect(failure({ targets: { ops: { ...webhook, secretEnv: 's3cr3t value!' } } })).toContain(
      'alerts.targets.ops.secretEnv: must be the name of an environment variable',
    );
    expect(failure({ targets: { ops: { kind: 'email', to: 'ops@example.com' } } })).toMatch(
      /alerts\.targets\.ops\.kind: /,
    );
    expect(failure({ targets: { ops: { ...webhook, secret: 'x' } } })).toMatch(
      /alerts\.targets\.ops: Unrecognized key: "secret"/,
    );
    expect(failure({ targets: {} })).toContain('alerts.targets: name at least one target');
    expect(failure({ targets: { ops: webhook }, triggers: { rejects: {} } })).toContain(
      'alerts.triggers.rejects: give rows (a count), share (of the rows read) or both',
    );
    expect(failure({ targets: { ops: webhook }, triggers: { rejects: { share: 2 } } })).toContain(
      'alerts.triggers.rejects.share: share is at most 1',
    );
    expect(failure({ targets: { ops: webhook }, triggers: { slowRun: { times: 0 } } })).toContain(
      'alerts.triggers.slowRun.times: times must be above 0',
    );
    expect(failure({ targets: { ops: webhook }, triggers: { onFire: true } })).toMatch(
      /alerts\.triggers: Unrecognized key: "onFire"/,
    );
  });

  it('reads the secrets from the environment, naming a missing variable, and the redactor knows them', () => {
    const loaded = config({ targets: { ops: webhook, team: { kind: 'slack', urlEnv: 'SLACK_URL' } } });
    const env = { ALERT_SECRET: 'whsec-123456', SLACK_URL: 'https://hooks.slack.com/services/T0/B0/abcdef' };
    expect(resolveAlertTarget('ops', loaded.alerts!.targets.ops!, env)).toEqual({
      url: webhook.url,
      secret: 'whsec-123456',
    });
    expect(() => resolveAlertTarget('ops', loaded.alerts!.targets.ops!, {})).toThrow(
      'alerts.targets.ops.secretEnv: environment variable ALERT_SECRET is not set',
    );
    expect(() =>
      resolveAlertTarget('team', loaded.alerts!.targets.team!, { SLACK_URL: 'http://hooks.slack.com/x' }),
    ).toThrow('alerts.targets.team.urlEnv: the URL in SLACK_URL must be https://');
    const redacted = workerRedactor(loaded, env).redact(`posting to ${env.SLACK_URL} with ${env.ALERT_SECRET}`);
    expect(redacted).toBe('posting to [REDACTED] with [REDACTED]');
  });
});
