import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSync } from '../../src/api/syncs.js';
import { parseConfig } from '../../src/config/accounts.js';
import type { SyncInput, SyncResult } from '../../src/core/contract.js';
import { MAX_MAPPING_FIELDS } from '../../src/core/mapping.js';
import { MAX_COLUMNS } from '../../src/sources/row-limits.js';
import {
  startLeadSquaredSimulator,
  type RunningLeadSquaredSimulator,
} from '../../src/vendors/leadsquared/simulator/server.js';
import {
  startSmartLeadSimulator,
  type RunningSmartLeadSimulator,
} from '../../src/vendors/smartlead/simulator/server.js';
import { startConfiguredWorker, type ConfiguredWorker } from '../helpers/configured-worker.js';
import { uniqueName, uniqueTaskQueue } from '../helpers/temporal.js';
import { workflowFailure, type WorkflowFailure } from '../helpers/workflow-failure.js';

const CAMPAIGN = 7;

/**
 * One worker for every account of a config that holds good and broken accounts side by side: each bad input must
 * fail its own sync with a message naming what to fix, and leave the worker serving the next one.
 */
describe('bad input', () => {
  const name = uniqueName('bad');
  const variable = (what: string) => `${name}_${what}`.replace(/[^A-Za-z0-9]/g, '_').toUpperCase();
  const accessKey = `u$${uniqueName('access')}`;
  const secretKey = uniqueName('secret');
  const apiKey = uniqueName('apikey');
  const accounts = {
    lsq: `${name}-lsq`,
    wrongKeys: `${name}-wrong`,
    missingKeys: `${name}-missing`,
    smartlead: `${name}-sl`,
  };
  let directory: string;
  let leadsquared: RunningLeadSquaredSimulator;
  let smartlead: RunningSmartLeadSimulator;
  let worker: ConfiguredWorker;
  const taskQueue = uniqueTaskQueue('bad-input');

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'leadsync-bad-input-'));
    leadsquared = await startLeadSquaredSimulator({ plan: 'enterprise', accessKey, secretKey });
    smartlead = await startSmartLeadSimulator({ plan: 'pro', apiKey, campaigns: [{ id: CAMPAIGN }] });
    Object.assign(process.env, {
      [variable('access')]: accessKey,
      [variable('secret')]: secretKey,
      [variable('wrong_secret')]: `${secretKey}-wrong`,
      [variable('api')]: apiKey,
    });
    const lsqAccount = (accessKeyEnv: string, secretKeyEnv: string) => ({
      vendor: 'leadsquared',
      plan: 'enterprise',
      baseUrl: leadsquared.baseUrl,
      credentials: { accessKeyEnv, secretKeyEnv },
    });
    worker = await startConfiguredWorker(
      join(directory, 'leadsync.yaml'),
      {
        accounts: {
          [accounts.lsq]: lsqAccount(variable('access'), variable('secret')),
          [accounts.wrongKeys]: lsqAccount(variable('access'), variable('wrong_secret')),
          [accounts.missingKeys]: lsqAccount(variable('unset_access'), variable('unset_secret')),
          [accounts.smartlead]: {
            vendor: 'smartlead',
            plan: 'pro',
            baseUrl: smartlead.baseUrl,
            credentials: { apiKeyEnv: variable('api') },
          },
        },
        rejects: { directory: join(directory, 'rejects') },
      },
      taskQueue,
    );
  });

  afterAll(async () => {
    await worker?.stop();
    await leadsquared?.stop();
    await smartlead?.stop();
  });

  const sync = async (input: SyncInput): Promise<SyncResult> =>
    (await startSync(worker.client, input, { taskQueue })).result();

  /** The sync's own failure, as `leadsync sync` prints it: the innermost cause says what is wrong. */
  const failureOf = (input: SyncInput): Promise<WorkflowFailure> => workflowFailure(sync(input));

  const file = async (fileName: string, content: string | Buffer): Promise<string> => {
    const path = join(directory, fileName);
    await writeFile(path, content);
    return path;
  };

  const rejectsOf = async (result: SyncResult): Promise<Map<number, { field: string; reason: string }>> => {
    const lines = (await readFile(result.rejectsFile!, 'utf8')).trim().split('\n').slice(1);
    return new Map(
      lines.map((line) => {
        const [, row, field, reason] = /^(\d+),([^,]*),(.*)$/.exec(line)!;
        return [Number(row), { field: field!, reason: reason! }];
      }),
    );
  };

  it('lands every good row of a malformed LeadSquared file and reports each bad row with its row and field', async () => {
    const good = (i: number) => `good-${name}-${i}@example.com,First${i},Last${i}`;
    const lines: (string | Buffer)[] = [
      good(1),
      `unclosed-${name}@example.com,"Bob,Smith`, // 2: a quote never closed
      good(3),
      `columns-${name}@example.com,Only`, // 4: a field short
      Buffer.concat([Buffer.from(`latin1-${name}@example.com,Ren`), Buffer.from([0xe9]), Buffer.from(',Dupont')]), // 5
      'not-an-email,Bad,Email', // 6
      `${'a'.repeat(95)}-${name}@example.com,Long,Email`, // 7: over LeadSquared's 100 characters
      `long-first-${name}@example.com,${'x'.repeat(201)},Name`, // 8: FirstName over 200
      `dup-${name}@example.com,Early,One`, // 9
      `DUP-${name}@example.com,Late,Two`, // 10: the same lead, by email
      `stray-quote-${name}@example.com,O"Brien,X`, // 11: a quote inside an unquoted field
      ...Array.from({ length: 10 }, (_, i) => good(12 + i)),
    ];
    const body = Buffer.concat(lines.flatMap((line) => [Buffer.from(line), Buffer.from('\n')]));
    const path = await file(
      'malformed.csv',
      Buffer.concat([Buffer.from('\ufeffEmailAddress,FirstName,LastName\n'), body]),
    );

    const result = await sync({ account: accounts.lsq, source: { kind: 'csv', path } });

    expect(result).toMatchObject({ totalRows: 21, read: 21, rejected: 8, accepted: 13 });
    const rejects = await rejectsOf(result);
    expect([...rejects.keys()].sort((a, b) => a - b)).toEqual([2, 4, 5, 6, 7, 8, 10, 11]);
    // The open quote runs on to the stray one of row 11, where the parser first notices.
    expect(rejects.get(2)!.reason).toMatch(
      /byte \d+ (opens a quoted field that is never closed|has text after the closing quote)/,
    );
    expect(rejects.get(4)!.reason).toMatch(/expected 3 fields .* found 2/);
    expect(rejects.get(5)!.reason).toMatch(/column LastName|column FirstName: bytes that are not UTF-8/);
    expect(rejects.get(6)).toMatchObject({ field: 'EmailAddress', reason: expect.stringMatching(/not a valid email/) });
    expect(rejects.get(7)).toMatchObject({ field: 'EmailAddress', reason: expect.stringMatching(/over the 100/) });
    expect(rejects.get(8)).toMatchObject({ field: 'FirstName', reason: expect.stringMatching(/201 characters/) });
    expect(rejects.get(11)!.reason).toMatch(/quote inside an unquoted field/);
    expect(rejects.get(10)).toMatchObject({
      field: 'EmailAddress',
      reason: expect.stringMatching(/^duplicate of row 9:/),
    });

    // The BOM is not part of the first column's name, the rows after each bad one landed, and the two rows of one
    // email are one lead: the first row's version.
    const stored = new Map(leadsquared.leads().map((lead) => [lead.email.toLowerCase(), lead]));
    for (const i of [1, 3, ...Array.from({ length: 10 }, (_, k) => 12 + k)]) {
      expect(stored.has(`good-${name}-${i}@example.com`.toLowerCase())).toBe(true);
    }
    expect(
      leadsquared.leads().filter((lead) => lead.email.toLowerCase() === `dup-${name}@example.com`.toLowerCase()),
    ).toHaveLength(1);
    expect(stored.get(`dup-${name}@example.com`.toLowerCase())).toMatchObject({ fields: { FirstName: 'Early' } });
    expect(stored.size).toBe(13);
  });

  it('lands the good rows of a SmartLead file and rejects invalid and over-long values by field', async () => {
    const path = await file(
      'smartlead.csv',
      [
        'email,first_name,company_name',
        `sl-1-${name}@example.com,Ada,Acme`,
        `sl-bad-${name},Bad,Acme`, // 2
        `sl-3-${name}@example.com,${'y'.repeat(256)},Acme`, // 3: over our 255
        `sl-4-${name}@example.com,Dup,Acme`,
        `SL-4-${name}@example.com,Dup again,Acme`, // 5: SmartLead dedupes by email in a campaign
        `sl-6-${name}@example.com,Grace,Acme`,
        '',
      ].join('\n'),
    );

    const result = await sync({
      account: accounts.smartlead,
      source: { kind: 'csv', path },
      target: { campaignId: CAMPAIGN },
    });

    expect(result).toMatchObject({ totalRows: 6, read: 6, rejected: 3, accepted: 3 });
    const rejects = await rejectsOf(result);
    expect(rejects.get(2)).toMatchObject({ field: 'email', reason: expect.stringMatching(/not a valid email/) });
    expect(rejects.get(3)).toMatchObject({ field: 'first_name', reason: expect.stringMatching(/limit is 255/) });
    expect(rejects.get(5)).toMatchObject({ field: 'email', reason: expect.stringMatching(/^duplicate of row 4:/) });
    const emails = smartlead.leads(CAMPAIGN).map((lead) => lead.email.toLowerCase());
    expect(emails.sort()).toEqual([1, 4, 6].map((i) => `sl-${i}-${name}@example.com`).sort());
  });

  it('completes a header-only file with nothing to send', async () => {
    const path = await file('header-only.csv', 'EmailAddress,FirstName\n');
    expect(await sync({ account: accounts.lsq, source: { kind: 'csv', path } })).toMatchObject({
      totalRows: 0,
      read: 0,
      accepted: 0,
      rejected: 0,
    });
  });

  it('fails a sync whose file, mapping, credentials or target is wrong, naming what to fix', async () => {
    const leads = await file('leads.csv', `EmailAddress,FirstName\nok-${name}@example.com,Ok\n`);
    const smartleadLeads = await file('smartlead-leads.csv', `email,first_name\nok-${name}@example.com,Ok\n`);
    const empty = await file('empty.csv', '');
    const wide = await file('wide.csv', `${Array.from({ length: MAX_COLUMNS + 1 }, (_, i) => `c${i}`).join(',')}\n`);
    const cases: [string, SyncInput, RegExp, string][] = [
      [
        'empty file',
        { account: accounts.lsq, source: { kind: 'csv', path: empty } },
        /empty\.csv is empty/,
        'ConfigError',
      ],
      [
        'header of more columns than a file may have',
        { account: accounts.lsq, source: { kind: 'csv', path: wide } },
        new RegExp(`wide\\.csv: the header has ${MAX_COLUMNS + 1} columns, over the ${MAX_COLUMNS} a file may have`),
        'ConfigError',
      ],
      [
        'mapping of a missing column',
        { account: accounts.lsq, source: { kind: 'csv', path: leads }, mapping: { EmailAddress: 'Email' } },
        /mapping of EmailAddress: the source has no column 'Email'/,
        'ConfigError',
      ],
      [
        'mapping to a field the vendor lacks',
        {
          account: accounts.lsq,
          source: { kind: 'csv', path: leads },
          mapping: { EmailAddress: 'EmailAddress', Nickname: 'FirstName' },
        },
        /mapping: Nickname: is not a LeadSquared lead field/,
        'ConfigError',
      ],
      [
        'missing credentials',
        { account: accounts.missingKeys, source: { kind: 'csv', path: leads } },
        new RegExp(`environment variable ${variable('unset_access')} \\(credentials.accessKeyEnv\\) is not set`),
        'ConfigError',
      ],
      [
        'wrong credentials',
        { account: accounts.wrongKeys, source: { kind: 'csv', path: leads } },
        /401|invalid/i,
        'AuthError',
      ],
      [
        'campaign that does not exist',
        { account: accounts.smartlead, source: { kind: 'csv', path: smartleadLeads }, target: { campaignId: 999 } },
        /999/,
        'NotFound',
      ],
      [
        'SmartLead sync without a campaign',
        { account: accounts.smartlead, source: { kind: 'csv', path: smartleadLeads } },
        /campaignId/,
        'ConfigError',
      ],
    ];
    for (const [what, input, message, type] of cases) {
      const failure = await failureOf(input);
      expect({ what, ...failure }).toMatchObject({ what, type, message: expect.stringMatching(message) });
      expect(failure.message).not.toContain(secretKey);
    }
    // Nothing of the failed syncs reached the vendor.
    expect(leadsquared.leads().some((lead) => lead.email === `ok-${name}@example.com`)).toBe(false);
  });

  it('refuses workflow input from outside the typed client (the temporal CLI) with the path of the bad value', async () => {
    const handle = await worker.client.workflow.start('leadSync', {
      taskQueue,
      workflowId: uniqueName('bad-input-raw'),
      args: [{ account: accounts.lsq, source: { kind: 'csv' }, share: 3 }],
    });
    const error = await handle.result().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause!;
    expect(cause.message).toMatch(/invalid sync input: .*source\.path: .*share: share is at most 1/);
  });

  it('refuses a mapping of 50,000 fields in one message, before any vendor call', async () => {
    const before = leadsquared.report({ requests: false }).totals.requests;
    const path = await file('mapped.csv', `EmailAddress\nmapped-${name}@example.com\n`);
    const mapping = Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`mx_Field${i}`, 'EmailAddress']));
    const handle = await worker.client.workflow.start('leadSync', {
      taskQueue,
      workflowId: uniqueName('bad-input-mapping'),
      args: [{ account: accounts.lsq, source: { kind: 'csv', path }, mapping }],
    });

    const error = await handle.result().catch((err: unknown) => err);

    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error as WorkflowFailedError).cause!.message).toBe(
      `invalid sync input: mapping: the mapping has 50000 fields, over the ${MAX_MAPPING_FIELDS} a mapping may have: ` +
        'map only the fields the sync writes',
    );
    expect(leadsquared.report({ requests: false }).totals.requests).toBe(before);
  });

  it('keeps the rejects report of a closed sync whose workflow id a new sync uses again, each report naming its run', async () => {
    const workflowId = uniqueName('bad-input-again');
    const first = await startSync(
      worker.client,
      {
        account: accounts.lsq,
        source: { kind: 'csv', path: await file('again-1.csv', `EmailAddress\nnot-an-email\n`) },
      },
      { taskQueue, workflowId },
    );
    const firstReport = (await first.result()).rejectsFile!;

    const second = await startSync(
      worker.client,
      {
        account: accounts.lsq,
        source: { kind: 'csv', path: await file('again-2.csv', `EmailAddress\nagain-${name}@example.com\nbad\n`) },
      },
      { taskQueue, workflowId },
    );
    const secondReport = (await second.result()).rejectsFile!;

    expect(firstReport).toBe(join(directory, 'rejects', `${workflowId}.${first.firstExecutionRunId}.rejects.csv`));
    expect(secondReport).toBe(join(directory, 'rejects', `${workflowId}.${second.firstExecutionRunId}.rejects.csv`));
    expect((await readFile(firstReport, 'utf8')).split('\n').slice(1, -1)).toEqual([
      expect.stringMatching(/^1,EmailAddress,/),
    ]);
    expect((await readFile(secondReport, 'utf8')).split('\n').slice(1, -1)).toEqual([
      expect.stringMatching(/^2,EmailAddress,/),
    ]);
  });

  it('names the account and key of an unknown plan in the config file', () => {
    const raw = {
      accounts: {
        acme: {
          vendor: 'leadsquared',
          plan: 'platinum',
          baseUrl: 'http://127.0.0.1:1/v2/',
          credentials: { accessKeyEnv: 'A', secretKeyEnv: 'B' },
        },
      },
    };
    expect(() => parseConfig(raw, 'leadsync.yaml')).toThrow(
      /accounts\.acme\.plan: unknown leadsquared plan 'platinum'/,
    );
  });

  it('still serves good syncs after every failure above', async () => {
    const path = await file('after.csv', `EmailAddress,FirstName\nafter-${name}@example.com,After\n`);
    expect(await sync({ account: accounts.lsq, source: { kind: 'csv', path } })).toMatchObject({ accepted: 1 });
  });
});
