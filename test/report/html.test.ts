/**
 * The HTML report as a string: content, escaping, self-containment, determinism and speed.
 * (html.browser.test.ts opens the same pages in Chromium.)
 */
import { describe, expect, it } from 'vitest';
import { renderLayouts, renderTimeline, type TimelineDoc } from '../../src/report/html/index.js';
import { layoutsDoc, LINE_LAG_EXPLANATION, lineLagDoc, longDoc, TVAL_SLOT_EXPLANATION, TVAL_SLOT_TOKEN, tvalSlotDoc } from './fixtures.js';

/** The escaping a correct renderer must apply to document text (our own copy, to compare with). */
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** Every class attribute's tokens, in document order. */
const classLists = (html: string): string[][] => [...html.matchAll(/\bclass="([^"]*)"/g)].map((m) => m[1]!.split(/\s+/));

/** The elements carrying class `divergent`, as their whole start tags. */
const divergentTags = (html: string): string[] => [...html.matchAll(/<[a-z]+\b[^>]*\bclass="([^"]*)"[^>]*>/g)].filter((m) => m[1]!.split(/\s+/).includes('divergent')).map((m) => m[0]);

const ids = (html: string): string[] => [...html.matchAll(/\bid="([^"]*)"/g)].map((m) => m[1]!);

describe('renderTimeline on the TVAL-slot counterexample', () => {
  const doc = tvalSlotDoc();
  const html = renderTimeline(doc);

  it('is one HTML page with a title and a language', () => {
    expect(html.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
    expect(html).toContain(`<title>${esc(doc.title)}</title>`);
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
  });

  it('shows every op text', () => {
    for (const op of doc.ops) expect(html).toContain(esc(op.text));
  });

  it('has exactly one divergent marker, on the divergent op, and the explanation in the banner', () => {
    const tags = divergentTags(html);
    expect(tags).toHaveLength(1);
    expect(tags[0]).toContain('data-op="1"');
    expect(tags[0]).toMatch(/class="marker /);
    const banner = /<div class="banner" id="divergence">([\s\S]*?)<\/div>/.exec(html);
    expect(banner).not.toBeNull();
    expect(banner![1]).toContain(esc(TVAL_SLOT_EXPLANATION));
    expect(banner![1]).toContain('op #1');
  });

  it('carries the replay token in a code element', () => {
    expect(html).toContain(`<code id="token">nvconform replay ${TVAL_SLOT_TOKEN}</code>`);
  });

  it('shows the read that went wrong: expected 0x2, observed 0x0, marked as differing', () => {
    expect(html).toMatch(/class="val read-expected"[^>]*>0x2</);
    expect(html).toMatch(/class="val read-observed differs"[^>]*>0x0</);
  });

  it('draws the TVAL slot 0x1f0 the trace stored to and the CVAL slot it loaded from, and lists the others', () => {
    expect(html).toContain('data-offset="0x1f0"');
    expect(html).toContain('data-offset="0x168"');
    expect(html).not.toContain('data-offset="0x60"');
    expect(html).toMatch(/not touched by this trace: .*0x60 CNTVOFF_EL2/);
    expect(html).toContain('class="page-store"');
    expect(html).toContain('class="page-load"');
  });

  it('has a details section per op, holding its register, hardware and observation', () => {
    for (const op of doc.ops) {
      const m = new RegExp(`<section class="op-detail" data-detail="${op.index}" hidden>([\\s\\S]*?)</section>`).exec(html);
      expect(m).not.toBeNull();
      expect(m![1]).toContain(op.op['reg']!);
      for (const h of op.hardware) expect(m![1]).toContain(esc(h));
    }
    expect(html).toContain('<div id="details" class="details"');
    expect(html).toMatch(/data-detail="1"[\s\S]*?value=0x0 irq=\[\]/);
  });

  it('has unique ids', () => {
    const all = ids(html);
    expect(new Set(all).size).toBe(all.length);
  });

  it('shows no line difference: the interrupt lines agree on this trace', () => {
    expect(html).not.toContain('class="line-differs"');
  });
});

describe('renderTimeline on the line-lag counterexample', () => {
  const doc = lineLagDoc();
  const html = renderTimeline(doc);

  it('shades where the observed vtimer line differs from the expected one, from the tick on', () => {
    expect(html).toContain('class="line-differs"');
    expect(html).toContain('class="irq-expected"');
    expect(html).toContain('class="irq-observed"');
    expect(divergentTags(html)).toHaveLength(1);
    expect(divergentTags(html)[0]).toContain('data-op="2"');
    expect(html).toContain(esc(LINE_LAG_EXPLANATION));
  });

  it('annotates the count: both counts on the ruler and the +0x20 of the tick', () => {
    expect(html).toMatch(/class="count"[^>]*>0x1000</);
    expect(html).toMatch(/class="count"[^>]*>0x1020</);
    expect(html).toMatch(/class="delta"[^>]*>\+0x20</);
    expect(html).toContain('class="axis-break"');
  });

  it('says in the legend which axis it uses', () => {
    expect(html).toContain('one column per op');
    expect(html).toContain('not to scale');
  });
});

describe('escaping and self-containment', () => {
  const evil = '<script>alert("x")</script> & \'q\' " onmouseover="boom';
  const base = tvalSlotDoc();
  const doc: TimelineDoc = {
    ...base,
    title: evil,
    subtitle: evil,
    explanation: evil,
    property: evil,
    token: `nvc1:${evil}`,
    config: { ...base.config, features: [evil], init: { [evil]: evil } },
    slots: [{ offset: 0x1f0, key: evil }],
    ops: base.ops.map((op) => ({
      ...op,
      text: evil,
      op: { ...op.op, reg: evil },
      hardware: [evil, `store VNCR[0x1f0] ${evil}`],
      timerMap: evil,
      expected: { ...op.expected, [evil]: evil },
      observed: { ...(op.observed ?? {}), fault: evil },
      vncr: op.vncr.map((c) => ({ ...c, key: evil, before: evil })),
      timerState: op.timerState.map((s) => ({ ...s, timer: evil, cval: evil, offset: evil })),
    })),
  };
  const html = renderTimeline(doc);

  it('never lets document text open an element or an attribute', () => {
    // The page's own script is the only script element.
    expect(html.match(/<script/gi)).toHaveLength(1);
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).not.toMatch(/onmouseover="boom/);
    expect(html).not.toContain(" & 'q'");
    expect(html).toContain('&amp; &#39;q&#39;');
  });

  it('the divergent marker is still there exactly once', () => {
    expect(divergentTags(html)).toHaveLength(1);
  });

  it('references nothing outside the page', () => {
    for (const page of [html, renderTimeline(tvalSlotDoc()), renderTimeline(longDoc(40)), renderLayouts(layoutsDoc())]) {
      expect(page).not.toMatch(/https?:\/\//i);
      expect(page).not.toMatch(/<link\b/i);
      expect(page).not.toMatch(/<script[^>]*\bsrc=/i);
      expect(page).not.toMatch(/<img\b/i);
      expect(page).not.toMatch(/url\((?!#)/);
      expect(page).not.toMatch(/@import/);
    }
  });
});

describe('determinism and speed', () => {
  it('renders the same bytes twice, and for an equal copy of the document', () => {
    for (const make of [tvalSlotDoc, lineLagDoc, () => longDoc(40)]) {
      const a = renderTimeline(make());
      expect(renderTimeline(make())).toBe(a);
      expect(renderTimeline(structuredClone(make()))).toBe(a);
    }
    expect(renderLayouts(layoutsDoc())).toBe(renderLayouts(layoutsDoc()));
  });

  it('renders a 40-op document in well under 50 ms', () => {
    const doc = longDoc(40);
    renderTimeline(doc); // warm up
    const times: number[] = [];
    for (let i = 0; i < 9; i++) {
      const t0 = performance.now();
      renderTimeline(doc);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    expect(times[4]!).toBeLessThan(50);
  });
});

describe('sizes and edge cases', () => {
  const width = (html: string): number => Number(/<svg class="chart" width="(\d+)"/.exec(html)![1]);

  it('fits a 1280-px window for 2 to 40 ops', () => {
    for (const doc of [tvalSlotDoc(), lineLagDoc(), longDoc(12), longDoc(24), longDoc(40)]) expect(width(renderTimeline(doc))).toBeLessThanOrEqual(1230);
  });

  it('draws labels of a 2-to-12-op trace flat (in tiers), and slants them for 40 ops', () => {
    for (const doc of [tvalSlotDoc(), lineLagDoc(), longDoc(12)]) expect(renderTimeline(doc)).not.toMatch(/class="op-label[^"]*"[^>]*transform/);
    expect(renderTimeline(longDoc(40))).toMatch(/class="op-label"[^>]*transform="rotate\(50/);
  });

  it('keeps a 2^63 tick and ops at the same count readable: one label per count run', () => {
    const html = renderTimeline(longDoc(40));
    const counts = [...html.matchAll(/class="count"[^>]*>([^<]*)</g)].map((m) => m[1]!);
    expect(counts).toContain('0xffffffffffffff00');
    expect(counts.some((c) => c.startsWith('0x7fffffffffffff'))).toBe(true);
    // consecutive labels differ: a run at one count has a single label
    for (let i = 1; i < counts.length; i++) expect(counts[i]).not.toBe(counts[i - 1]);
  });

  it('renders a trace with no ops, no slots and no timers', () => {
    const html = renderTimeline({ ...tvalSlotDoc(), ops: [], slots: [], timers: [], divergentOp: undefined, explanation: undefined, token: undefined });
    expect(html).toContain('The trace has no ops.');
    expect(divergentTags(html)).toHaveLength(0);
  });

  it('shows an op on which the implementation failed', () => {
    const base = lineLagDoc();
    const ops = base.ops.map((op, i) => (i === 2 ? { ...op, observed: null } : op));
    const html = renderTimeline({ ...base, ops });
    expect(html).toContain('implementation failed');
    expect(html).toContain('no observation');
  });

  it('does not shade a value that differs only in UNKNOWN bits', () => {
    const base = tvalSlotDoc();
    const ops = base.ops.map((op, i) => (i === 1 ? { ...op, expected: { irq: [], value: '0x2', unknown: '0x3' }, observed: { irq: [], value: '0x1' } } : op));
    const html = renderTimeline({ ...base, ops, divergentOp: undefined });
    expect(html).not.toContain('read-differs');
    expect(classLists(html).some((c) => c.includes('mismatch'))).toBe(false);
  });
});

describe('renderLayouts', () => {
  const doc = layoutsDoc();
  const html = renderLayouts(doc);

  it('is one page with the verdict table', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('<table class="verdicts"');
    for (const c of doc.columns) expect(html).toContain(`<th scope="col">${esc(c)}</th>`);
    for (const r of doc.rows) for (const cell of r.cells) expect(html).toContain(esc(cell));
    expect(html).toContain(esc(doc.note!));
  });

  it('links each row with a counterexample to its embedded timeline, one click away', () => {
    doc.rows.forEach((r, i) => {
      if (r.counterexample) {
        expect(html).toContain(`href="#cx-${i}"`);
        expect(html).toContain(`<section class="nvc-timeline" id="cx-${i}">`);
        expect(html).toContain(`id="cx-${i}-details"`);
        for (const op of r.counterexample.ops) expect(html).toContain(esc(op.text));
      } else {
        expect(html).not.toContain(`id="cx-${i}"`);
      }
    });
  });

  it('has unique ids and one divergent marker per embedded counterexample', () => {
    const all = ids(html);
    expect(new Set(all).size).toBe(all.length);
    expect(divergentTags(html)).toHaveLength(doc.rows.filter((r) => r.counterexample).length);
  });
});
