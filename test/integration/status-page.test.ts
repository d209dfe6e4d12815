// The /targets status page in a real browser (Debian's chromium, headless, driven by playwright-core):
// a running docktail follows a test container, the page shows it as following with lines counted,
// draws a hostile label value as text, fetches nothing but docktail itself, and says so when docktail
// goes away. Leaves a screenshot in test-output/status-page.png.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import type { LokiReceiver } from '../fakes/loki-receiver.js';
import { startLokiReceiver } from '../fakes/loki-receiver.js';
import type { AgentProcess } from '../harness/agent.js';
import { REPO, startAgent } from '../harness/agent.js';
import { removeContainers, runContainer, uniqueName } from '../harness/docker.js';
import { runLabel, tempDir, writeTestConfig } from '../harness/setup.js';

const CHROMIUM = process.env.DOCKTAIL_TEST_CHROMIUM ?? '/usr/bin/chromium';
const HOSTILE = '<img src=x onerror="window.__xss=1"></script><script>window.__xss=2</script>&amp;';

/** A node's text, trimmed. */
const text = async (l: Locator): Promise<string> => ((await l.textContent()) ?? '').trim();

/** Polls until `check` returns a value (not undefined). */
async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise(r => setTimeout(r, 200));
  }
}

describe('status page in headless Chromium', () => {
  const label = runLabel();
  const created: string[] = [];
  const requests: string[] = [];
  const problems: string[] = [];
  let receiver: LokiReceiver;
  let agent: AgentProcess;
  let browser: BrowserContext;
  let page: Page;
  let base: string;

  before(async () => {
    assert.ok(
      existsSync(CHROMIUM),
      `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium, as .ci/run does)`,
    );
    receiver = await startLokiReceiver();
    const dir = tempDir('status-page');
    const config = writeTestConfig({ dir, receiverUrl: receiver.url, runLabel: label, batchwait: '100ms' });
    agent = startAgent({ args: [`-config.file=${config}`] });
    const listening = await agent.waitForLog(/msg=listening/);
    const port = Number(/ port=(\d+)/.exec(listening)?.[1]);
    assert.ok(port > 0, listening);
    base = `http://127.0.0.1:${port}`;
    await agent.waitForLog(/first discovery done/);

    browser = await chromium.launchPersistentContext(join(dir, 'chromium-profile'), {
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 760 },
      colorScheme: 'light',
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.on('request', r => requests.push(r.url()));
    page.on('pageerror', err => problems.push(`page error: ${err.message}`));
    page.on('console', m => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
  });

  after(async () => {
    await browser?.close();
    await agent?.stop();
    await receiver?.close();
    await removeContainers(created);
  });

  test('shows a running container as following with its lines, escapes labels, fetches only docktail', async () => {
    const name = uniqueName('status-page');
    created.push(
      await runContainer(
        'trap "exit 0" TERM; i=0; while true; do i=$((i+1)); echo "line $i"; usleep 200000; done',
        {
          name,
          labels: { 'docktail.test': label, 'docktail.note': HOSTILE },
        },
      ),
    );

    const response = await page.goto(`${base}/targets`);
    assert.equal(response?.status(), 200);
    assert.match(response?.headers()['content-type'] ?? '', /^text\/html/);
    assert.match(response?.headers()['content-security-policy'] ?? '', /script-src 'nonce-/);

    // The page refreshes itself: the container appears without reloading, as following with lines.
    // (Polled from here: the page's CSP rightly refuses the eval behind a string waitForFunction.)
    const row = page.locator('tr.target', { has: page.locator('.name', { hasText: name }) });
    const shown = async () => {
      if ((await row.count()) !== 1) return undefined;
      return {
        state: (await row.getAttribute('data-state')) ?? '',
        badge: await text(row.locator('.c-state')),
        lines: Number(await row.locator('.c-lines').getAttribute('data-value')),
      };
    };
    const first = await eventually('the container, following with lines', async () => {
      const r = await shown();
      return r && r.state === 'following' && r.lines > 0 ? r : undefined;
    });
    assert.equal(first.badge, 'following');
    const labels = await text(row.locator('.c-labels'));
    assert.ok(labels.includes(`container=${name}`), labels);
    assert.ok(labels.includes('stream=stdout | stderr'), labels);

    // The line count keeps moving with the next refreshes.
    await eventually('a higher line count', async () => {
      const r = await shown();
      return r && r.lines > first.lines ? r : undefined;
    });

    // The discovered labels, hostile value included, are shown as text and run nothing.
    await row.locator('button.toggle').click();
    const detail = page.locator('tr.detail');
    await detail.waitFor({ timeout: 2_000 });
    const note = detail.locator('dt', { hasText: '__meta_docker_container_label_docktail_note' });
    assert.equal(await note.count(), 1);
    assert.equal(await text(note.locator('xpath=following-sibling::dd[1]')), HOSTILE, 'shown verbatim');
    assert.equal(await page.evaluate('window.__xss'), undefined, 'no markup from a label ran');
    assert.equal(await page.locator('img').count(), 0, 'no element was made from a label');

    // Clients: the receiver's push URL, healthy, with entries accepted.
    const client = page.locator('#clients tr.client', { hasText: receiver.url });
    assert.equal(await client.count(), 1);
    assert.equal(await text(client.locator('.c-status')), 'ok');
    assert.ok(Number(await client.locator('.c-sent').getAttribute('data-value')) > 0, 'entries accepted');
    assert.equal(await text(page.locator('#ready')), 'ready');

    mkdirSync(join(REPO, 'test-output'), { recursive: true });
    await page.screenshot({ path: join(REPO, 'test-output', 'status-page.png'), fullPage: true });

    const foreign = requests.filter(u => !u.startsWith(`${base}/`) && !u.startsWith('data:'));
    assert.deepEqual(foreign, [], 'the page loads nothing from elsewhere');
    assert.ok(
      requests.some(u => u === `${base}/targets.json`),
      `the page refreshed from targets.json: ${requests.join(' ')}`,
    );
    assert.deepEqual(problems, [], 'no script error or CSP violation');
  });

  test('says so when docktail stops answering, keeping the last data', async () => {
    await agent.stop();
    const banner = page.locator('#banner');
    await banner.waitFor({ state: 'visible', timeout: 10_000 });
    assert.match(await text(banner), /Cannot reach docktail/);
    assert.ok((await page.locator('tr.target').count()) > 0, 'the last targets stay on screen');
  });
});
