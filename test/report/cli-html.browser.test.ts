/**
 * `nvconform check --layout tval-in-vncr --html out.html` end to end: the page the CLI writes,
 * opened in headless Chromium (Debian's /usr/bin/chromium via playwright-core; scripts/
 * setup-chromium.sh installs it, and .ci/run runs that script). It shows the bug at a glance:
 * the divergent op is marked and on screen without scrolling, with the explanation and the
 * token; hovering the op shows both sides; the verdict table's links reach their timelines.
 * Skipped without Chromium, except in CI (CI=true), where a missing browser is a failure.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const inCi = process.env.CI === 'true';
if (!hasChromium) console.log(`cli-html.browser.test: Chromium not installed: run scripts/setup-chromium.sh (looked for ${CHROMIUM})`);
const OUT = join(tmpdir(), 'nvconform-html-report');
const VIEWPORT = { width: 1280, height: 800 };

/** Run the CLI writing OUT/name.html; return the page's path and the report's replay tokens. */
function writePage(name: string, ...args: string[]): { file: string; tokens: string[] } {
  mkdirSync(OUT, { recursive: true });
  const file = join(OUT, `${name}.html`);
  const r = spawnSync(process.execPath, [join(ROOT, 'dist/src/cli/main.js'), ...args, '--html', file], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  expect(r.status, r.stderr).toBe(1);
  expect(r.stdout).toContain(`--html: wrote ${file}`);
  return { file, tokens: [...r.stdout.matchAll(/nvconform replay (nvc1:[A-Za-z0-9_-]+)/g)].map((m) => m[1]!) };
}

async function withPage<T>(file: string, fn: (page: Page, problems: string[]) => Promise<T>): Promise<T> {
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    const page = await browser.newPage({ viewport: VIEWPORT });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) problems.push(`request: ${r.url()}`);
    });
    await page.goto(pathToFileURL(file).href);
    return await fn(page, problems);
  } finally {
    await browser?.close();
  }
}

/** The element is on screen in the first viewport, without scrolling. */
async function onFirstScreen(page: Page, selector: string): Promise<void> {
  const box = await page.locator(selector).first().boundingBox();
  expect(box, selector).not.toBeNull();
  expect(box!.y).toBeGreaterThanOrEqual(0);
  expect(box!.y + box!.height).toBeLessThanOrEqual(VIEWPORT.height);
  expect(box!.x + box!.width).toBeLessThanOrEqual(VIEWPORT.width);
}

describe('the page `check --html` writes, in Chromium', () => {
  it.runIf(inCi && !hasChromium)('CI has Chromium (scripts/setup-chromium.sh)', () => {
    expect.fail(`Chromium is missing at ${CHROMIUM} in CI: .ci/run must run scripts/setup-chromium.sh`);
  });

  it.skipIf(!hasChromium)('one property: the divergent op, the why and the token on the first screen; hover shows both sides', async () => {
    const { file, tokens } = writePage('cli-tval-deferred', 'check', '--layout', 'tval-in-vncr', '--guest', 'vhe', '--ecv', '--property', 'deferred');
    await withPage(file, async (page, problems) => {
      await page.screenshot({ path: join(OUT, 'cli-tval-deferred.png') });
      expect(await page.locator('.marker.divergent').count()).toBe(1);
      await onFirstScreen(page, '.marker.divergent');
      await onFirstScreen(page, '#divergence');
      expect(await page.locator('#divergence').innerText()).toContain('First divergence at op #1');
      expect(await page.locator('#token').innerText()).toBe(`nvconform replay ${tokens[0]!}`);
      await page.locator('.marker[data-op="1"]').hover();
      await expect.poll(() => page.locator('#details').isVisible()).toBe(true);
      const d = (await page.locator('#details').innerText()).replace(/\s+/g, ' ');
      expect(d).toContain('mrs CNTV_CVAL_EL02');
      expect(d).toContain('value=0x0 irq=[]');
      expect(d).toContain('value=0x1 irq=[]');
      expect(d).toContain('load VNCR[0x168] (CNTV_CVAL_EL0)');
      expect(problems).toEqual([]);
    });
  });

  it.skipIf(!hasChromium)('every property: the verdict table first, each FAIL linking to its own timeline', async () => {
    const { file, tokens } = writePage('cli-tval-all', 'check', '--layout', 'tval-in-vncr');
    const html = readFileSync(file, 'utf8');
    await withPage(file, async (page, problems) => {
      await page.screenshot({ path: join(OUT, 'cli-tval-all.png') });
      await onFirstScreen(page, '#verdicts');
      const fails = await page.locator('#verdicts td.fail').count();
      expect(fails).toBe(tokens.length);
      const links = page.locator('#verdicts a[href^="#cx-"]');
      expect(await links.count()).toBe(tokens.length);
      for (let i = 0; i < tokens.length; i++) {
        const href = (await links.nth(i).getAttribute('href'))!;
        await links.nth(i).click();
        await expect.poll(() => page.evaluate(() => (globalThis as unknown as { location: { hash: string } }).location.hash)).toBe(href);
        const section = page.locator(`${href}`);
        const marker = section.locator('.marker.divergent');
        expect(await marker.count()).toBe(1);
        await marker.scrollIntoViewIfNeeded();
        expect(await marker.isVisible()).toBe(true);
        expect(await page.locator(`${href}-token`).innerText()).toBe(`nvconform replay ${tokens[i]!}`);
        await page.locator(`${href} .back a`).click();
      }
      expect(html).not.toMatch(/https?:\/\//);
      expect(problems).toEqual([]);
    });
  });
});
