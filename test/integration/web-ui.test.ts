import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelSync, startSync, syncProgress, type SyncHandle } from '../../src/api/syncs.js';
import { REPO_ROOT, eventually } from '../helpers/run-cli.js';
import { LEAD_HEADER, csvLines, leadRows, leadSquaredSyncFixture, writeCsv } from '../helpers/sync-harness.js';
import { testTemporal } from '../helpers/temporal.js';

const OUTPUT = join(REPO_ROOT, 'test-output', 'web-ui');
/** Long enough at the Lite plan that the sync is still running while the browser looks at it. */
const ROWS = 2_000;

/** Debian's Chromium, installed by the project's own script when missing (it says so on the terminal). */
function ensureChromium(): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('sh', [join(REPO_ROOT, 'scripts', 'ensure-chromium.sh')], (err, stdout) =>
      err ? reject(err) : resolve(stdout.trim()),
    );
    child.stderr?.pipe(process.stderr);
  });
}

describe('the Temporal Web UI', () => {
  const fixture = leadSquaredSyncFixture({ plan: 'lite' });
  let browser: Browser;
  let handle: SyncHandle | undefined;

  beforeAll(async () => {
    const executablePath = await ensureChromium();
    // Root in a container has no user namespaces for Chromium's sandbox; the page is our own local UI.
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
    await mkdir(OUTPUT, { recursive: true });
  });

  // Runs before the fixture's own teardown (after-hooks run last-registered first): the worker is still there.
  afterAll(async () => {
    if (handle)
      await cancelSync(handle).then(
        () => handle!.result(),
        () => undefined,
      );
    await browser?.close();
  });

  it('finds a running sync by its account and shows its current details', async () => {
    const { uiUrl, namespace } = testTemporal();
    if (!uiUrl) throw new Error('this test needs the dev server started by the integration setup (with its Web UI)');
    const file = await writeCsv(fixture.setup.directory, 'leads.csv', LEAD_HEADER, csvLines(leadRows(ROWS)));
    handle = await startSync(
      fixture.client,
      { account: fixture.setup.accountName, source: { kind: 'csv', path: file } },
      { taskQueue: fixture.setup.taskQueue },
    );
    const id = handle.workflowId;
    const running = handle;
    await eventually(
      () => syncProgress(running),
      (p) => p.state === 'running' && p.counts.accepted > 0,
    );

    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const query = `LeadsyncAccount="${fixture.setup.accountName}"`;
    await page.goto(`${uiUrl}/namespaces/${namespace}/workflows?query=${encodeURIComponent(query)}`);
    const row = page.getByRole('link', { name: id });
    await untilShown(page, async () => ((await row.isVisible()) ? row : undefined));
    // The filter leaves exactly this account's sync in the list.
    expect(await page.getByRole('link', { name: /^leadsync-sync-/ }).count()).toBe(1);
    await page.screenshot({ path: join(OUTPUT, 'workflows-by-account.png') });

    await row.click();
    await page.waitForURL(new RegExp(`/workflows/${id}/`), { timeout: 60_000 });
    // The UI keeps summary, details and current details under "User Metadata". It reads the current details through
    // a query to the running worker and renders their markdown in a sandboxed frame of their own.
    await page.getByRole('tab', { name: 'User Metadata' }).click();
    const details = await untilShown(page, () => renderedMarkdown(page, /rows \d+ of 2000/)).catch(
      async (err: unknown) => {
        // What the page showed instead is the first thing to look at when the UI changes its layout.
        await page.screenshot({ path: join(OUTPUT, 'details-not-found.png'), fullPage: true });
        await writeFile(join(OUTPUT, 'details-not-found.html'), await page.content());
        throw err;
      },
    );
    await page.screenshot({ path: join(OUTPUT, 'sync-current-details.png') });
    await writeFile(join(OUTPUT, 'sync-current-details.txt'), `${details}\n`);

    expect(details).toMatch(new RegExp(`^running · account ${fixture.setup.accountName} \\(leadsquared\\)$`, 'm'));
    expect(details).toMatch(/^rows \d+ of 2000 \(\d+%\): \d+ accepted, 0 rejected$/m);
    expect(details).toMatch(
      /^rate (being measured|[\d.]+ rows\/s over the last minute) \([\d.]+ rows\/s since the start\); the plan sustains [\d.]+ rows\/s$/m,
    );
    expect(details).toMatch(/^expected to finish at \d{4}-\d\d-\d\dT[\d:.]+Z at its own rate/m);
    expect(await renderedMarkdown(page, /into account/)).toContain(`into account ${fixture.setup.accountName}`);
    await expect(
      page
        .getByText(/bulk lane: rows \d+-\d+/)
        .first()
        .isVisible(),
    ).resolves.toBe(true);
  });
});

/** The text of the first markdown frame of the page whose text matches, if one does yet. */
async function renderedMarkdown(page: Page, matching: RegExp): Promise<string | undefined> {
  const frames = page.locator('iframe[title="output"]');
  for (let i = 0; i < (await frames.count()); i++) {
    const text = await frames
      .nth(i)
      .contentFrame()
      .locator('body')
      .innerText({ timeout: 5_000 })
      .catch(() => '');
    if (matching.test(text)) return text;
  }
  return undefined;
}

/**
 * Waits for what the UI renders once its data arrives, reloading now and then: the list reads visibility, which can
 * trail the start of a workflow, and a workflow's page does not refresh on its own.
 */
async function untilShown<T>(page: Page, find: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 90_000;
  for (let polls = 1; ; polls++) {
    const found = await find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error('the Web UI did not show it within 90 s');
    await page.waitForTimeout(500);
    if (polls % 30 === 0) await page.reload();
  }
}
