import { describe, expect, it } from 'vitest';
import { RequestLog, type Outcome } from '../../src/simulation/request-log.js';
import { auditWrites, onceEach, senderName, type Sender } from '../helpers/write-counts.js';

const T0 = 1_700_000_000_000;
const WORKER = 101;
const OTHER = 202;

/** A log of lead writes, each of one lead, made by the given sender at T0 + `at`. */
function logOf(writes: { at: number; email: string; sender?: Sender; outcome?: Outcome; undelivered?: boolean }[]) {
  const log = new RequestLog();
  for (const write of writes) {
    const index = log.add(
      {
        at: T0 + write.at,
        method: 'POST',
        path: '/v2/LeadManagement.svc/Lead.CreateOrUpdate',
        lane: 'general',
        status: write.outcome === 'fault-lost-response' ? 0 : 200,
        outcome: write.outcome ?? 'ok',
        rows: 1,
        ...(write.sender ? { sender: senderName(write.sender) } : {}),
      },
      0,
      [{ kind: 'lead', key: write.email }],
    );
    if (write.undelivered) log.markUndelivered(index);
  }
  return { report: () => ({ requests: log.records() }), rowWrites: log.rowWrites.bind(log) };
}

const chunk = (attempt: number, pid = WORKER): Sender => ({ pid, chunk: 'run-1/7', attempt });

describe('auditWrites', () => {
  it('counts each lead once when nothing was sent twice', () => {
    const audit = auditWrites(
      logOf([
        { at: 0, email: 'a@x.io' },
        { at: 1, email: 'b@x.io' },
      ]),
    );

    expect(audit).toEqual({ times: onceEach(['A@x.io', 'b@x.io']), resent: 0, unanswered: 0, duplicates: [] });
  });

  it('takes one resend after each answer the worker never had, lost or undelivered, and no more', () => {
    const log = logOf([
      { at: 0, email: 'a@x.io', outcome: 'fault-lost-response' },
      { at: 500, email: 'a@x.io', undelivered: true },
      { at: 1_000, email: 'a@x.io' },
      { at: 1_001, email: 'a@x.io' },
    ]);

    const audit = auditWrites(log);

    expect(audit).toMatchObject({ resent: 3, unanswered: 2 });
    expect(audit.duplicates).toEqual([
      { key: 'a@x.io', before: expect.stringMatching(/: ok$/), again: expect.any(String) },
    ]);
  });

  it("takes a retried chunk's resends when its earlier try's worker died, not a write made twice in one try", () => {
    const log = logOf([
      { at: 0, email: 'a@x.io', sender: chunk(1) },
      { at: 1, email: 'b@x.io', sender: chunk(1) },
      { at: 2, email: 'b@x.io', sender: chunk(1) },
      { at: 30_000, email: 'a@x.io', sender: chunk(2, OTHER) },
      { at: 30_001, email: 'b@x.io', sender: chunk(2, OTHER) },
    ]);

    // The death seen before the simulator read the dead worker's last request: it had sent it before it died.
    const killed = auditWrites(log, 'lead', { ended: [{ pid: WORKER, at: T0 - 5 }] });
    const otherKilled = auditWrites(log, 'lead', { ended: [{ pid: OTHER, at: T0 + 10_000 }] });

    expect(killed.duplicates.map((d) => d.key)).toEqual(['b@x.io']);
    expect(killed.duplicates[0]!.again).toMatch(new RegExp(`by pid ${WORKER}, run-1/7 try 1`));
    expect(otherKilled.duplicates.map((d) => d.key)).toEqual(['a@x.io', 'b@x.io', 'b@x.io']);
    const diedAfterRetry = auditWrites(log, 'lead', { ended: [{ pid: WORKER, at: T0 + 40_000 }] });
    expect(diedAfterRetry.duplicates.map((d) => d.key)).toEqual(['a@x.io', 'b@x.io', 'b@x.io']);
  });

  it("takes the resends of a try under way when the server restarted, even written beside its retry's", () => {
    const log = logOf([
      { at: 0, email: 'a@x.io', sender: chunk(1) },
      { at: 25_000, email: 'a@x.io', sender: chunk(2) },
      { at: 25_100, email: 'b@x.io', sender: chunk(2) },
      { at: 25_200, email: 'b@x.io', sender: chunk(1) },
      { at: 40_000, email: 'c@x.io', sender: { pid: WORKER, chunk: 'run-1/8', attempt: 1 } },
      { at: 40_001, email: 'c@x.io', sender: { pid: WORKER, chunk: 'run-1/9', attempt: 1 } },
    ]);

    const audit = auditWrites(log, 'lead', { restarts: [{ from: T0 + 5_000, to: T0 + 9_000 }] });
    const noRestart = auditWrites(log);

    expect(audit.duplicates.map((d) => d.key)).toEqual(['c@x.io']);
    expect(noRestart.duplicates.map((d) => d.key)).toEqual(['a@x.io', 'b@x.io', 'c@x.io']);
  });
});
