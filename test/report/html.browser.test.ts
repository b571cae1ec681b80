/**
 * The HTML report end to end: each page written to a file and opened in headless Chromium
 * (Debian's /usr/bin/chromium, driven by playwright-core; never a downloaded browser). Skipped
 * where Chromium is not installed: run scripts/setup-chromium.sh. Screenshots are kept under
 * the OS temp dir (nvconform-html-report/) for a human to look at.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { renderLayouts, renderTimeline, type TimelineDoc } from '../../src/report/html/index.js';
import { layoutsDoc, lineLagDoc, longDoc, tvalSlotDoc } from './fixtures.js';

/**
 * The little of the browser's DOM the page.evaluate callbacks use. The repo compiles without the
 * DOM library; this module-local declaration types those callbacks, which run in the page.
 */
interface BrowserElement {
  readonly textContent: string | null;
  readonly scrollWidth: number;
  readonly clientWidth: number;
  readonly classList: { contains(c: string): boolean };
  getAttribute(name: string): string | null;
  getBoundingClientRect(): { left: number; right: number; top: number; bottom: number };
  closest(selector: string): BrowserElement | null;
  querySelectorAll(selector: string): Iterable<BrowserElement>;
}
declare const document: { readonly activeElement: BrowserElement | null; querySelector(selector: string): BrowserElement | null };

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.log(`html.browser.test: Chromium not installed: run scripts/setup-chromium.sh (looked for ${CHROMIUM})`);

const OUT = join(tmpdir(), 'nvconform-html-report');
const VIEWPORT = { width: 1280, height: 800 };

/** Launch Chromium, open `html` (written to OUT/name.html) at 1280x800, run `fn`, close the browser whatever happens. */
async function withPage<T>(name: string, html: string, fn: (page: Page, problems: string[]) => Promise<T>): Promise<T> {
  mkdirSync(OUT, { recursive: true });
  const file = join(OUT, `${name}.html`);
  writeFileSync(file, html);
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
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

/** A PNG's width and height from its IHDR chunk (and that it is a PNG at all). */
function pngSize(buf: Buffer): { width: number; height: number } {
  expect(buf.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
  expect(buf.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

/** Pairs of unrotated chart texts whose boxes overlap (more than a pixel each way). */
async function overlappingTexts(page: Page, root = 'svg.chart'): Promise<string[]> {
  return page.evaluate((sel) => {
    const svg = document.querySelector(sel);
    if (!svg) return ['no chart'];
    const texts = [...svg.querySelectorAll('text')].filter((t) => !t.closest('[transform]'));
    const boxes = texts.map((t) => ({ t: t.textContent ?? '', r: t.getBoundingClientRect() }));
    const out: string[] = [];
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i]!.r;
        const b = boxes[j]!.r;
        const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (w > 1 && h > 1) out.push(`"${boxes[i]!.t}" / "${boxes[j]!.t}"`);
      }
    }
    return out;
  }, root);
}

/** Hover op `i`'s marker (inside `scope`) and return the details panel's text once it is visible. */
async function hoverDetails(page: Page, i: number, panel = '#details', scope = 'body'): Promise<string> {
  await page.locator(`${scope} .marker[data-op="${i}"]`).hover();
  const details = page.locator(panel);
  await expect.poll(() => details.isVisible()).toBe(true);
  return (await details.innerText()).replace(/\s+/g, ' ');
}

describe('the HTML report in Chromium', () => {
  it.skipIf(!hasChromium)('TVAL slot: screenshot, divergence visible, hover shows the op', async () => {
    const doc = tvalSlotDoc();
    await withPage('tval-slot', renderTimeline(doc), async (page, problems) => {
      const shot = join(OUT, 'tval-slot.png');
      await page.screenshot({ path: shot });
      const png = readFileSync(shot);
      expect(pngSize(png)).toEqual(VIEWPORT);
      expect(png.length).toBeGreaterThan(30_000); // a page with a chart, not a blank one

      const div = page.locator('.marker.divergent');
      await expect.poll(() => div.count()).toBe(1);
      await div.scrollIntoViewIfNeeded();
      expect(await div.isVisible()).toBe(true);
      const box = await div.boundingBox();
      expect(box).not.toBeNull();
      expect(box!.x).toBeGreaterThanOrEqual(0);
      expect(box!.y).toBeGreaterThanOrEqual(0);
      expect(box!.x + box!.width).toBeLessThanOrEqual(VIEWPORT.width);
      expect(box!.y + box!.height).toBeLessThanOrEqual(VIEWPORT.height);
      expect(await page.locator('#divergence').isVisible()).toBe(true);
      expect(await page.locator('#token').isVisible()).toBe(true);

      expect(await page.locator('#details').isVisible()).toBe(false);
      const d1 = await hoverDetails(page, 1);
      expect(d1).toContain('CNTV_CVAL_EL02');
      expect(d1).toContain('value=0x0 irq=[]'); // observed
      expect(d1).toContain('value=0x2 irq=[]'); // expected
      expect(d1).toContain('First divergence');
      await page.screenshot({ path: join(OUT, 'tval-slot-hover.png') });

      const d0 = await hoverDetails(page, 0);
      expect(d0).toContain('CNTV_TVAL_EL02');
      expect(d0).toContain('store VNCR[0x1f0] (CNTV_TVAL_EL0)');
      expect(d0).not.toContain('CNTV_CVAL_EL02,');

      // Moving away hides it again.
      await page.mouse.move(5, 5);
      await expect.poll(() => page.locator('#details').isVisible()).toBe(false);
      expect(problems).toEqual([]);
    });
  });

  it.skipIf(!hasChromium)('line lag: keyboard focus shows an op, a click pins it, Escape unpins', async () => {
    const doc = lineLagDoc();
    await withPage('line-lag', renderTimeline(doc), async (page, problems) => {
      await page.screenshot({ path: join(OUT, 'line-lag.png') });
      const details = page.locator('#details');
      // Tab from the top of the page reaches the op markers (after the two buttons).
      for (let k = 0; k < 10 && !(await page.evaluate(() => document.activeElement?.classList.contains('marker') ?? false)); k++) await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.getAttribute('data-op'))).toBe('0');
      await expect.poll(() => details.isVisible()).toBe(true);
      expect((await details.innerText()).replace(/\s+/g, ' ')).toContain('CNTV_CVAL_EL02');

      await page.locator('.marker[data-op="2"]').click();
      await expect.poll(() => details.getAttribute('class')).toContain('pinned');
      await page.mouse.move(5, 5);
      await page.waitForTimeout(400);
      expect(await details.isVisible()).toBe(true);
      const text = (await details.innerText()).replace(/\s+/g, ' ');
      expect(text).toContain('tick 0x20');
      expect(text).toContain('irq=[vtimer]'); // expected
      expect(text).toContain('observed irq=[] differs');
      await page.keyboard.press('Escape');
      await expect.poll(() => details.isVisible()).toBe(false);

      // The banner's button pins the divergent op.
      await page.locator('#divergence button').click();
      await expect.poll(() => details.isVisible()).toBe(true);
      expect(await details.innerText()).toContain('tick 0x20');
      expect(problems).toEqual([]);
    });
  });

  it.skipIf(!hasChromium)('no chart text overlaps another for 2-, 3- and 12-op traces, nor the unslanted text of a 40-op one', async () => {
    const docs: [string, TimelineDoc][] = [
      ['tval-slot', tvalSlotDoc()],
      ['line-lag', lineLagDoc()],
      ['synthetic-12', longDoc(12)],
      ['synthetic-40', longDoc(40)],
    ];
    for (const [name, doc] of docs) {
      await withPage(name, renderTimeline(doc), async (page, problems) => {
        await page.screenshot({ path: join(OUT, `${name}.png`) });
        expect({ name, overlaps: await overlappingTexts(page) }).toEqual({ name, overlaps: [] });
        // The chart fits the window: no horizontal scrolling needed.
        const { scroll, client } = await page.evaluate(() => {
          const s = document.querySelector('.scroll')!;
          return { scroll: s.scrollWidth, client: s.clientWidth };
        });
        expect(scroll).toBeLessThanOrEqual(client);
        const div = page.locator('.marker.divergent');
        await div.scrollIntoViewIfNeeded();
        expect(await div.isVisible()).toBe(true);
        const last = doc.ops.length - 1;
        const d = await hoverDetails(page, last);
        expect(d).toContain(doc.ops[last]!.text);
        expect(problems).toEqual([]);
      });
    }
  });

  it.skipIf(!hasChromium)('layouts: a row link reaches its embedded counterexample, whose ops show their details', async () => {
    const doc = layoutsDoc();
    await withPage('layouts', renderLayouts(doc), async (page, problems) => {
      await page.screenshot({ path: join(OUT, 'layouts.png') });
      const row = doc.rows.findIndex((r) => r.counterexample?.divergentOp === 1);
      await page.locator(`#row-${row} a[href="#cx-${row}"]`).click();
      const heading = page.locator(`#cx-${row} h2`).first();
      await expect.poll(async () => {
        const b = await heading.boundingBox();
        return b !== null && b.y >= 0 && b.y < VIEWPORT.height;
      }).toBe(true);
      const d = await hoverDetails(page, 1, `#cx-${row}-details`, `#cx-${row}`);
      expect(d).toContain('CNTV_CVAL_EL02');
      expect(d).toContain('value=0x0 irq=[]');
      // The other embedded timeline's panel stays hidden.
      const other = doc.rows.findIndex((r, i) => i !== row && r.counterexample);
      expect(await page.locator(`#cx-${other}-details`).isVisible()).toBe(false);
      expect(problems).toEqual([]);
    });
  });
});
