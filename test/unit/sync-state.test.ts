import { describe, expect, it } from 'vitest';
import {
  CarriedSchema,
  SyncInputSchema,
  ZERO_COUNTS,
  type Carried,
  type SyncRequest,
} from '../../src/core/contract.js';
import { startWatermark } from '../../src/core/watermark.js';
import { carriedOn, countChunk, syncProgress, syncResult } from '../../workflows/sync-state.js';

const STARTED = 1_700_000_000_000;

function request(share = 1, source: SyncRequest['source'] = { kind: 'csv', path: 'leads.csv' }): SyncRequest {
  return SyncInputSchema.parse({ account: 'inbound', source, share });
}

function carried(overrides: Partial<Carried> = {}): Carried {
  return {
    plan: {
      vendor: 'leadsquared',
      planName: 'standard',
      lanes: [{ lane: 'general', taskQueue: 'q', rowsPerCall: 25, callsPerSecond: 2.8 }],
      totalRows: 1000,
      rowsPerSecond: 70,
      rejectsDirectory: '/rejects',
    },
    cursor: { position: null, nextRow: 1 },
    scanned: false,
    landed: startWatermark(),
    pending: {},
    counts: { ...ZERO_COUNTS },
    startedAt: STARTED,
    run: 0,
    paused: false,
    ...overrides,
  };
}

describe('counting chunk results', () => {
  it('adds a chunk rows, accepted, rejected, unattributed, unchanged, retries and calls to the counts', () => {
    const counts = { read: 10, accepted: 8, rejected: 1, unattributed: 1, unchanged: 0, retried: 0, calls: 1 };

    countChunk(counts, {
      rows: 350,
      accepted: 330,
      rejected: 7,
      unattributed: 3,
      unchanged: 10,
      calls: 14,
      retries: 2,
    });

    expect(counts).toEqual({
      read: 360,
      accepted: 338,
      rejected: 8,
      unattributed: 4,
      unchanged: 10,
      retried: 2,
      calls: 15,
    });
  });

  it('counts a result from before rows refused without a name were counted as having none', () => {
    const counts = { ...ZERO_COUNTS };

    countChunk(counts, { rows: 5, accepted: 5, rejected: 0, calls: 1, retries: 0 });

    expect(counts.unattributed).toBe(0);
  });
});

describe('the progress of a sync', () => {
  it('tells the account, the share, the priority and the run start before the sync is prepared, with no plan figures', () => {
    const progress = syncProgress(
      { state: 'preparing', request: request(), sync: undefined, startedAt: STARTED, backoffUntil: undefined },
      STARTED + 2_000,
    );

    expect(progress).toEqual({
      state: 'preparing',
      account: 'inbound',
      counts: ZERO_COUNTS,
      share: 1,
      priority: 'normal',
      rowsPerSecond: 0,
      startedAt: STARTED,
      asOf: STARTED + 2_000,
      run: 0,
    });
  });

  it('measures the rate since the sync started, not since this run, and the ceiling at the sync share', () => {
    const sync = carried({ counts: { ...ZERO_COUNTS, read: 500 }, run: 3 });

    const progress = syncProgress(
      { state: 'running', request: request(0.5), sync, startedAt: STARTED + 9_000, backoffUntil: undefined },
      STARTED + 10_000,
    );

    expect(progress).toMatchObject({
      rowsPerSecond: 50,
      startedAt: STARTED,
      run: 3,
      vendor: 'leadsquared',
      totalRows: 1000,
      ceilingRowsPerSecond: 35,
    });
  });

  it('shows a rate-limit backoff only while it is still pending', () => {
    const view = { state: 'running' as const, request: request(), sync: carried(), startedAt: STARTED };
    const until = STARTED + 5_000;

    expect(syncProgress({ ...view, backoffUntil: until }, until - 1).backoffUntil).toBe(until);
    expect(syncProgress({ ...view, backoffUntil: until }, until)).not.toHaveProperty('backoffUntil');
  });

  it('hands out a copy of the counts, which the sync goes on changing', () => {
    const sync = carried();
    const view = { state: 'running' as const, request: request(), sync, startedAt: STARTED, backoffUntil: undefined };

    const progress = syncProgress(view, STARTED + 1_000);
    countChunk(sync.counts, { rows: 5, accepted: 5, rejected: 0, calls: 1, retries: 0 });

    expect(progress.counts.read).toBe(0);
  });
});

describe('the result of a sync', () => {
  it('carries the counts, the seconds since the sync started and the rejects file', () => {
    const sync = carried({ counts: { ...ZERO_COUNTS, read: 1000, accepted: 999, rejected: 1 } });

    const result = syncResult(request(), sync, '/rejects/sync.csv', false, STARTED + 20_000);

    expect(result).toEqual({
      read: 1000,
      accepted: 999,
      rejected: 1,
      unattributed: 0,
      unchanged: 0,
      retried: 0,
      calls: 0,
      totalRows: 1000,
      rejectsFile: '/rejects/sync.csv',
      seconds: 20,
      cancelled: false,
    });
  });

  it('names the rejects table when the rejects went to one, and nothing when there were none', () => {
    const table = { connection: 'crm', table: 'rejects', syncId: 's', rows: 2 };

    expect(syncResult(request(), carried(), table, false, STARTED).rejectsTable).toEqual(table);
    const none = syncResult(request(), carried(), undefined, true, STARTED);
    expect(none).not.toHaveProperty('rejectsFile');
    expect(none).not.toHaveProperty('rejectsTable');
    expect(none.cancelled).toBe(true);
  });

  it('gives an incremental source the next since, after the last row that landed', () => {
    const source = {
      kind: 'postgres' as const,
      connection: 'crm',
      table: 'leads',
      key: 'id',
      cursorColumn: 'updated_at',
    };
    const sync = carried({ landed: { nextRow: 11, position: '["2026-01-01","10"]', ahead: [] } });

    const result = syncResult(request(1, source), sync, undefined, false, STARTED);

    expect(result.nextSince).toEqual({ value: '2026-01-01', key: '10' });
  });
});

describe('what a run carries to the next', () => {
  it('hands on its state as is, whether it is paused, and the next run number', () => {
    const sync = carried({ run: 4, scanned: true });

    const next = carriedOn(sync, true);

    expect(next).toEqual({ ...sync, paused: true, run: 5 });
  });

  it('keeps a pending chunk marked as having sent calls before a pause, as the next run reads it', () => {
    const stopped = { from: 100, to: 200, firstRow: 11, rows: 10, sentBefore: true as const };
    const waiting = { from: 200, to: 300, firstRow: 21, rows: 10 };
    const sync = carried({ paused: true, pending: { general: [stopped, waiting] } });

    const next = CarriedSchema.parse(JSON.parse(JSON.stringify(carriedOn(sync, true))));

    expect(next.pending.general).toEqual([stopped, waiting]);
  });
});
