import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { causes } from '../helpers/failure.js';
import { onceEachLine, smartLeadLines, smartLeadSyncFixture, storedEmails } from '../helpers/smartlead-harness.js';
import { uniqueName } from '../helpers/temporal.js';
import { auditWrites } from '../helpers/write-counts.js';

describe("a SmartLead sync, by the vendor's answers", () => {
  const { account, sync } = smartLeadSyncFixture();

  it('makes every resend visible when answers are lost after the write: each lead stored once, resends counted', async () => {
    const { setup } = await account({
      plan: 'standard',
      rowsPerCall: 100,
      simulator: { faults: { lostResponseRate: 0.3, seed: 11 } },
    });
    const lines = smartLeadLines(1_000);

    const { result } = await sync(setup, lines);

    expect(result).toMatchObject({ read: 1_000, accepted: 1_000, rejected: 0 });
    expect(storedEmails(setup)).toHaveLength(1_000);
    const lost = setup.simulator.report().requests.filter((r) => r.outcome === 'fault-lost-response');
    // A lost answer's leads were stored, then sent again by the retried call: SmartLead deduped them, the log did not.
    // Each resend follows a lost answer of the same lead, one resend per lost answer.
    const writes = auditWrites(setup.simulator);
    expect(lost.length).toBeGreaterThan(0);
    expect(writes.duplicates).toEqual([]);
    expect(writes.resent).toBe(writes.unanswered);
    expect([...writes.times.keys()].sort()).toEqual([...onceEachLine(setup, lines).keys()].sort());
    expect(result.retried).toBeGreaterThanOrEqual(1);
  }, 150_000);

  it('splits a batch SmartLead refuses for lead validation: the others land, the refused lead is rejected', async () => {
    const prefix = uniqueName('valid');
    const lines = smartLeadLines(40, prefix);
    const refused = `${prefix}-23@example.com`;
    const { setup } = await account({ plan: 'standard', simulator: { invalidLeadEmails: [refused] } });

    const { result } = await sync(setup, lines);

    expect(result).toMatchObject({ read: 40, accepted: 39, rejected: 1 });
    const report = (await readFile(result.rejectsFile!, 'utf8')).trim().split('\n');
    expect(report.slice(1)).toEqual([expect.stringMatching(/^23,,.*lead validation failed/)]);
    expect(storedEmails(setup)).toHaveLength(39);
    expect(storedEmails(setup)).not.toContain(refused);
    // The refused batches wrote nothing: their parts, sent again, wrote each other lead once.
    const written = lines.filter((line) => !line.startsWith(`${refused},`));
    expect(auditWrites(setup.simulator).times).toEqual(onceEachLine(setup, written));
  }, 120_000);

  it('rejects invalid and unsubscribed leads with their reason, and takes leads already in the campaign', async () => {
    const prefix = uniqueName('mixed');
    const { setup } = await account({
      plan: 'standard',
      simulator: { unsubscribedEmails: [`${prefix}-3@example.com`] },
    });
    const good = smartLeadLines(4, prefix);
    await sync(setup, good.slice(0, 2));

    const { result } = await sync(setup, [...good, 'not-an-email,Bad,Email']);

    expect(result).toMatchObject({ read: 5, accepted: 3, rejected: 2 });
    const report = (await readFile(result.rejectsFile!, 'utf8')).trim().split('\n');
    expect(report.slice(1).sort()).toEqual([
      expect.stringMatching(/^3,,unsubscribed/),
      expect.stringMatching(/^5,email,.*not a valid email/),
    ]);
    expect(storedEmails(setup)).toHaveLength(3);
  }, 120_000);

  it('fails at once, before any upload, when the campaign does not exist', async () => {
    const { setup } = await account({ plan: 'standard' });

    const failed = sync(setup, smartLeadLines(10), { target: { campaignId: 999_999 } });

    const failure = await failed.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(causes(failure).join('\n')).toMatch(/no campaign 999999/);
    expect(setup.simulator.report().requests.filter((r) => r.method === 'POST')).toHaveLength(0);
  }, 60_000);

  it("fails with SmartLead's message when every upload is answered success:false", async () => {
    // Most likely the campaign's or the account's state: no retry or split can fix it, so the sync says what to check.
    const { setup } = await account({ plan: 'standard' });
    setup.simulator.failUploads(1_000, 'Lead import is paused');

    const failure = await sync(setup, smartLeadLines(10, uniqueName('paused'))).then(
      () => undefined,
      (err: unknown) => err,
    );

    const message = causes(failure).join('\n');
    expect(message).toMatch(/Lead import is paused/);
    expect(message).toMatch(/check the campaign/);
    // One upload, not retried or split: the sync ended on SmartLead's first answer.
    const uploads = setup.simulator.report().requests.filter((r) => r.method === 'POST' && r.path.endsWith('/leads'));
    expect(uploads).toHaveLength(1);
  }, 120_000);
});
