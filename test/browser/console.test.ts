import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobEngineClient } from '../../sdk/worker/src/index.ts';
import { type E2e, poll, startE2e } from '../e2e/helpers.ts';

/**
 * The Console in a real browser (Debian's Chromium driven by playwright-core, no browser download)
 * against the local runtime: sign in, watch a demo run complete live, replay a dead letter, pause a
 * source. Screenshots land in test-results/browser/ (git-ignored; CI keeps them as artifacts).
 */
const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(import.meta.dirname, '../../test-results/browser');
const TENANT = 'demo';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  console.warn(
    `[browser] ${CHROMIUM} is missing: the Console browser tests are skipped (apt-get install -y chromium; .ci/run installs it)`,
  );
}

describe.skipIf(!haveChromium)('Console in Chromium', () => {
  let e: E2e;
  let browser: Browser;
  let page: Page;
  let token: string;

  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    e = await startE2e({ tenant: TENANT, tokenTenants: [TENANT, 'other'] });
    token = await e.runtime.token({ tenants: [TENANT, 'other'] });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(30_000);
  });

  afterAll(async () => {
    await browser?.close();
    await e?.stop();
  });

  it('refuses a bad token, then signs in with a good one', async () => {
    // The first request builds the Console in the runtime (Vite, in memory).
    await page.goto(`${e.runtime.url}/console/`, { timeout: 90_000 });
    await page.fill('#token', 'not-a-token');
    await page.click('#sign-in');
    await expect.poll(() => page.locator('.error').textContent()).toContain('UNAUTHENTICATED');
    await page.fill('#token', token);
    await page.fill('#tenant-input', TENANT);
    await page.click('#sign-in');
    await page.waitForSelector('header nav');
    expect(await page.locator('#tenant').inputValue()).toBe(TENANT);
    await shot('01-signed-in');
  });

  it('shows a demo run progress live and complete, with its DAG and critical path', async () => {
    await page.goto(`${e.runtime.url}/console/#/runs`);
    await page.waitForSelector('#live-state[data-state="live"]');
    const demo = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'scripts/demo.ts',
        '--runs',
        '1',
        '--failure-rate',
        '0',
        '--json',
        '--timeout',
        '90',
      ],
      {
        cwd: join(import.meta.dirname, '../..'),
        env: {
          ...process.env,
          JOBENGINE_URL: e.runtime.url,
          JOBENGINE_TOKEN: token,
          JOBENGINE_TENANT: TENANT,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    demo.stdout.on('data', (chunk) => {
      output += chunk;
    });
    demo.stderr.on('data', (chunk) => {
      output += chunk;
    });
    const exited = new Promise<number | null>((resolve) => demo.once('exit', resolve));

    // The row appears and turns succeeded without a reload: the runs page only listens to the WebSocket.
    const row = page.locator('tr[data-run]');
    await row.first().waitFor({ timeout: 60_000 });
    const runId = await row.first().getAttribute('data-run');
    await shot('02-run-live');
    await page.waitForSelector(`tr[data-run="${runId}"][data-status="succeeded"]`, { timeout: 90_000 });
    await shot('03-run-succeeded');
    expect(await exited, output).toBe(0);

    await page.click(`tr[data-run="${runId}"] a`);
    await page.waitForSelector('#dag g.node');
    await page.waitForSelector('.summary[data-status="succeeded"]');
    const states = await page
      .locator('#dag g.node')
      .evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-status')));
    expect(states.length).toBe(8);
    expect(new Set(states)).toEqual(new Set(['succeeded']));
    expect(await page.locator('#critical-path').textContent()).toMatch(/fetch-feed → parse → .* → export/);
    expect(await page.locator('#dag path.edge.critical').count()).toBeGreaterThan(0);
    await shot('04-run-dag');

    // a job's detail: its history
    await page.locator('#dag a').first().click();
    await page.waitForSelector('text=History');
    await expect
      .poll(() => page.locator('table td .badge[data-status="succeeded"]').count())
      .toBeGreaterThan(0);
    await shot('05-job-detail');
  });

  it('replays a dead letter', async () => {
    const sdk = new JobEngineClient({ baseUrl: e.runtime.url, token, tenant: TENANT });
    const created = await e.call('POST', '/api/v1/jobs', {
      body: { type: 'console.check', payload: {}, retry: { maxAttempts: 1 } },
    });
    expect(created.status).toBe(201);
    const { leases } = await sdk.lease({ workerId: 'browser-test', types: ['console.check'] });
    await sdk.completeOne(created.json.id, {
      leaseId: leases[0]!.leaseId,
      outcome: 'failed',
      error: { retryable: false, errorCode: 'MALFORMED_INPUT', message: 'broken on purpose' },
    });
    const letter = (await e.call('GET', '/api/v1/deadletter?status=open')).json.items.find(
      (d: { jobId: string }) => d.jobId === created.json.id,
    );

    await page.goto(`${e.runtime.url}/console/#/deadletters`);
    await page.fill('#operator-reason', 'browser test replay');
    await page.click(`button.replay[data-id="${letter.id}"]`);
    await page.selectOption('#dl-status', 'replayed');
    await page.waitForSelector(`tr[data-dead-letter="${letter.id}"] .badge[data-status="replayed"]`);
    await shot('06-dead-letter-replayed');
    const after = (await e.call('GET', `/api/v1/deadletter/${letter.id}`)).json;
    expect(after).toMatchObject({ status: 'replayed', replayedJobId: expect.any(String) });
  });

  it('pauses a source', async () => {
    const source = await e.call('POST', '/api/v1/sources', {
      body: { name: 'browser-src', type: 'advisory_feed', upstreamHost: 'feed.example' },
    });
    expect(source.status).toBe(201);
    await page.goto(`${e.runtime.url}/console/#/sources`);
    await page.waitForSelector(`tr[data-source="${source.json.id}"]`);
    await shot('07-sources');
    await page.fill('#operator-reason', 'upstream maintenance');
    await page.click(`button.pause[data-id="${source.json.id}"]`);
    await page.waitForSelector(`tr[data-source="${source.json.id}"][data-paused="true"]`);
    await shot('08-source-paused');
    expect((await e.call('GET', `/api/v1/sources/${source.json.id}`)).json).toMatchObject({ paused: true });
  });

  it('shows a running backfill with its chunk progress', async () => {
    const source = await e.call('POST', '/api/v1/sources', {
      body: { name: 'browser-backfilled', type: 'advisory_backfill', upstreamHost: 'feed.example' },
    });
    expect(source.status).toBe(201);
    const backfill = await e.call('POST', '/api/v1/backfills', {
      body: {
        sourceId: source.json.id,
        start: '2024-01-01T00:00:00Z',
        end: '2024-01-01T04:00:00Z',
        chunkSeconds: 3600,
      },
      headers: { 'X-Stella-Operator-Reason': 'browser test', 'X-Stella-Operator-Ticket': 'OPS-1' },
    });
    expect(backfill.status, JSON.stringify(backfill.json)).toBe(201);
    await page.goto(`${e.runtime.url}/console/#/backfills`);
    // the list answer has no progress: the page reads the live backfill itself
    await expect.poll(() => page.locator('[role="progressbar"] span').first().textContent()).toBe('0/4 · 0%');
    await shot('09-backfill');
  });

  it('switches tenant: the other tenant has no runs', async () => {
    await page.goto(`${e.runtime.url}/console/#/runs`);
    await page.waitForSelector('tr[data-run]');
    await page.selectOption('#tenant', 'other');
    await page.waitForSelector('text=Nothing here.');
    await poll(
      async () => page.locator('#tenant').inputValue(),
      (v) => v === 'other',
      { what: 'tenant switched' },
    );
    await shot('10-other-tenant');
  });
});
