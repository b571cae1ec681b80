/**
 * The timeline chart of one TimelineDoc as inline SVG, computed from the data alone.
 *
 * Horizontal axis: one column per op (the op-index axis); the physical count is annotated on a
 * ruler at the bottom, one label per run of ops at the same count, with a break where an op moved
 * the count. A 64-bit count cannot be drawn to scale (a tick of 2^63 next to a tick of 1), so the
 * chart never tries: it says so in the legend.
 *
 * Time within a column: the op's marker sits at the column's centre; the state after op i (its
 * observation, the architecture's timer state, the VNCR page, the EL) holds from marker i to
 * marker i+1. The half column before marker 0 is the start: all timers disabled, lines low.
 *
 * Rows, top to bottom: op labels (flat, over up to three tiers, or slanted when they do not fit),
 * op markers, what each op read (expected over observed), the EL, one lane per timer (CVAL and
 * CTL, condition met, the interrupt line expected and observed), one lane per VNCR slot the
 * trace touched, the count ruler.
 */
import { esc, num } from './escape.js';
import { agrees, countDelta, irqLines, offsetText, readAgrees, readText, sameCount, TIMER_INFO } from './format.js';
import type { TimelineDoc, TimelineOp } from './types.js';

/** Monospace text metrics (the chart's text is all monospace, so widths are computable). */
const CHAR = 0.61; // advance of one character, in em (DejaVu Sans Mono: 0.602)
const textW = (s: string, size: number): number => [...s].length * CHAR * size;

const LABEL_W = 180; // left column of lane labels
const PAGE_W = 1230; // the chart's width budget: a 1280 px window less the page's margins
const RIGHT_MIN = 16;
const PLOT_TARGET = PAGE_W - LABEL_W - RIGHT_MIN - 2; // width the columns share
const COL_MIN = 24;
const COL_MAX = 240;
const LINE = 13; // line height of op labels
const OP_FONT = 11;
const SMALL = 10;
const LANE_H = 66;
const SLOT_H = 18;
const READ_H = 30;
const MAX_TIERS = 3;
const SLANT = 50; // degrees, op labels when they do not fit in tiers
const COUNT_SLANT = 60; // degrees, count labels when they do not fit in tiers

/** Colours, shared with the legend. */
export const COLOURS = {
  expected: '#1d4ed8',
  observed: '#c2410c',
  differ: '#f59e0b',
  divergent: '#dc2626',
  condition: '#f2b705',
  enabled: '#dbeafe',
  disabled: '#e5e7eb',
  masked: '#c7d2fe',
  vel1: '#dcf0e0',
  vel2: '#f8fafc',
  route: { vncr: '#7e22ce', hw: '#0f766e', trap: '#a16207', undefined: '#6b7280' } as Readonly<Record<string, string>>,
  time: '#374151',
  el: '#15803d',
  slotStore: '#7e22ce',
  slotHost: '#0f766e',
} as const;

/** What the chart needs to know about each op, computed once. */
interface OpView {
  readonly op: TimelineOp;
  readonly mnemonic: string;
  readonly reg: string;
  readonly arg: string;
  readonly agrees: boolean;
  readonly divergent: boolean;
}

function opView(op: TimelineOp, divergent: boolean): OpView {
  const o = op.op;
  const mnemonic = o['op'] ?? op.text.split(/\s+/)[0] ?? '';
  const reg = o['reg'] ?? '';
  const arg = o['value'] ?? (o['by'] !== undefined ? `by ${o['by']}` : o['limit'] !== undefined ? `limit ${o['limit']}` : '');
  return { op, mnemonic, reg, arg, agrees: agrees(op.expected, op.observed), divergent };
}

/** The op label's lines when drawn flat: "#3 msr", the register, the value. */
function labelLines(v: OpView): string[] {
  const lines = [`#${v.op.index} ${v.mnemonic}`];
  if (v.reg) lines.push(v.reg);
  if (v.arg) lines.push(v.arg);
  return lines;
}

/**
 * Tiers for labels centred at `c[i]` with widths `w[i]`, in x order, tier 0 nearest the anchor
 * row: no two labels of a tier overlap, and (with leaders) no leader line from a label to its
 * anchor crosses a label of a nearer tier. Undefined when `maxTiers` are not enough.
 */
function placeTiers(c: readonly number[], w: readonly number[], maxTiers: number, leaders: boolean, gap = 6): number[] | undefined {
  const tier: number[] = [];
  for (let i = 0; i < c.length; i++) {
    let placed = -1;
    for (let t = 0; t < maxTiers && placed < 0; t++) {
      let ok = true;
      for (let j = 0; j < i && ok; j++) {
        const dx = Math.abs(c[i]! - c[j]!);
        if (tier[j] === t && dx < (w[i]! + w[j]!) / 2 + gap) ok = false;
        else if (leaders && tier[j]! < t && dx < w[j]! / 2 + 2) ok = false; // i's leader through j
        else if (leaders && tier[j]! > t && dx < w[i]! / 2 + 2) ok = false; // j's leader through i
      }
      if (ok) placed = t;
    }
    if (placed < 0) return undefined;
    tier.push(placed);
  }
  return tier;
}

/** The chart's geometry: columns, rows, and where each lane starts. */
export interface Geometry {
  readonly n: number;
  readonly x0: number;
  readonly colW: number;
  readonly width: number;
  readonly height: number;
  /** Tier of each op label, or undefined when the labels are slanted. */
  readonly tiers: readonly number[] | undefined;
  readonly markerY: number;
  readonly lanesTop: number;
  readonly lanesBottom: number;
}

type Cols = { readonly x0: number; readonly colW: number; readonly n: number };
const cx = (g: Cols, i: number): number => g.x0 + (i + 0.5) * g.colW;
/** Interval k holds the state after op k-1 (k = 0: the start), from marker k-1 to marker k. */
const ivStart = (g: Cols, k: number): number => (k === 0 ? g.x0 : cx(g, k - 1));
const ivEnd = (g: Cols, k: number): number => (k >= g.n ? g.x0 + g.n * g.colW : cx(g, k));

/** Runs of equal keys over the intervals 0..n, as [first interval, last interval, key]. */
function runs<T>(keys: readonly T[], same: (a: T, b: T) => boolean = (a, b) => a === b): [number, number, T][] {
  const out: [number, number, T][] = [];
  keys.forEach((k, i) => {
    const last = out[out.length - 1];
    if (last && same(last[2], k)) last[1] = i;
    else out.push([i, i, k]);
  });
  return out;
}

/** "load VNCR[0x170] ..." / "store VNCR[0x168] ...": the guest's own page accesses, per offset. */
function pageAccesses(op: TimelineOp): Map<number, 'load' | 'store'> {
  const m = new Map<number, 'load' | 'store'>();
  for (const h of op.hardware) {
    const r = /\b(load|store) VNCR\[0x([0-9a-fA-F]+)\]/.exec(h);
    if (r) m.set(parseInt(r[2]!, 16), r[1] as 'load' | 'store');
  }
  return m;
}

/** The VNCR slots: the layout's, then any other offset the ops changed; split into touched (changed or accessed) and untouched. */
export function slotsOf(doc: TimelineDoc): { touched: { offset: number; key: string }[]; untouched: { offset: number; key: string }[] } {
  const all = new Map<number, string>();
  for (const s of doc.slots) if (!all.has(s.offset)) all.set(s.offset, s.key);
  const extra = new Map<number, string>();
  for (const op of doc.ops) for (const c of op.vncr) if (!all.has(c.offset) && !extra.has(c.offset)) extra.set(c.offset, c.key);
  const list = [...all, ...[...extra].sort((a, b) => a[0] - b[0])].map(([offset, key]) => ({ offset, key }));
  const used = new Set<number>();
  for (const op of doc.ops) {
    for (const c of op.vncr) used.add(c.offset);
    for (const off of pageAccesses(op).keys()) used.add(off);
  }
  return { touched: list.filter((s) => used.has(s.offset)), untouched: list.filter((s) => !used.has(s.offset)) };
}

/** One SVG chart; `p` prefixes every id so that several charts can share a page. */
export function renderChart(doc: TimelineDoc, p: string): { svg: string; geometry: Geometry } {
  const n = doc.ops.length;
  const views = doc.ops.map((op, i) => opView(op, doc.divergentOp === i));
  const x0 = LABEL_W;
  const labelW = views.map((v) => Math.max(...labelLines(v).map((l) => textW(l, OP_FONT))) + 6);
  const maxLines = Math.max(1, ...views.map((v) => labelLines(v).length));
  const tierH = maxLines * LINE + 6;
  const slantLen = Math.max(0, ...views.map((v) => textW(`#${v.op.index} ${v.op.text}`, OP_FONT)));
  const counts: string[] = [];
  for (let k = 0; k <= n; k++) counts.push(k === 0 ? (doc.ops[0]?.countBefore ?? doc.config.count) : doc.ops[k - 1]!.countAfter);
  const countRuns = runs(counts, sameCount);
  const countW = countRuns.map(([, , c]) => textW(c, SMALL) + 4);

  /** Everything that depends on the column width: label tiers, count label tiers, the chart's width. */
  const measure = (colW: number) => {
    const cols: Cols = { x0, colW, n };
    const centres = views.map((_, i) => cx(cols, i));
    // Op labels: flat in up to three tiers if they fit, else slanted.
    const tiers = placeTiers(centres, labelW, MAX_TIERS, true);
    // Count ruler: one label per run of intervals at the same count, in tiers or slanted.
    const countMid = countRuns.map(([a, b]) => (ivStart(cols, a) + ivEnd(cols, b)) / 2);
    const countTiers = n === 0 ? [] : placeTiers(countMid, countW, MAX_TIERS, true, 8);
    const plotEnd = x0 + n * colW;
    const labelRight = tiers ? Math.max(0, ...centres.map((c, i) => c + labelW[i]! / 2 - plotEnd)) : 0;
    const countRight = countTiers ? Math.max(0, ...countMid.map((c, i) => c + countW[i]! / 2 - plotEnd)) : 0;
    const width = Math.ceil(plotEnd + Math.max(RIGHT_MIN, labelRight + 4, countRight + 4));
    return { tiers, countMid, countTiers, width };
  };
  // The widest columns that keep the chart within the page (labels hanging past the last column included).
  let colW = n === 0 ? COL_MAX : Math.max(COL_MIN, Math.min(COL_MAX, Math.floor(PLOT_TARGET / n)));
  let m = measure(colW);
  for (let round = 0; round < 6 && n > 0 && m.width > PAGE_W && colW > COL_MIN; round++) {
    colW = Math.max(COL_MIN, colW - Math.ceil((m.width - PAGE_W) / n));
    m = measure(colW);
  }
  const { tiers, countMid, countTiers, width } = m;

  const nTiers = tiers ? Math.max(0, ...tiers) + 1 : 0;
  const headerH = 6 + (tiers ? nTiers * tierH : slantLen * Math.sin((SLANT * Math.PI) / 180) + 10);
  const markerY = headerH + 12;

  const hasRead = doc.ops.some((op) => readText(op.expected) !== '' || (op.observed !== null && readText(op.observed) !== ''));
  const readY = markerY + 14;
  const elY = readY + (hasRead ? READ_H + 2 : 0);
  const lanesTop = elY;
  const timersTop = elY + 20;
  const { touched } = slotsOf(doc);
  const vncrTop = timersTop + doc.timers.length * LANE_H + 6;
  const vncrH = touched.length === 0 ? 0 : 18 + touched.length * SLOT_H;
  const rulerY = vncrTop + vncrH + 18;
  const lanesBottom = rulerY + 4;
  const countLen = Math.max(0, ...countW);
  const rulerH = countTiers ? 10 + (Math.max(0, ...countTiers) + 1) * 14 + 4 : 14 + countLen * Math.sin((COUNT_SLANT * Math.PI) / 180) + 8;
  const height = Math.ceil(rulerY + rulerH);
  const g: Geometry = { n, x0, colW, width, height, tiers, markerY, lanesTop, lanesBottom };

  const out: string[] = [];
  out.push(
    `<svg class="chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="${p}chart-title ${p}chart-desc" data-x0="${x0}" data-colw="${colW}" data-n="${n}" data-top="${num(markerY - 14)}">`,
    `<title id="${p}chart-title">${esc(doc.title)}: timeline of ${n} op${n === 1 ? '' : 's'}</title>`,
    `<desc id="${p}chart-desc">${esc(chartDescription(doc, views))}</desc>`,
    `<defs><pattern id="${p}hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="${COLOURS.differ}" fill-opacity="0.18"/><line x1="0" y1="0" x2="0" y2="6" stroke="${COLOURS.differ}" stroke-width="3"/></pattern>`,
    `<pattern id="${p}masked" width="5" height="5" patternUnits="userSpaceOnUse" patternTransform="rotate(-45)"><rect width="5" height="5" fill="${COLOURS.enabled}"/><line x1="0" y1="0" x2="0" y2="5" stroke="${COLOURS.masked}" stroke-width="2.5"/></pattern></defs>`,
  );

  // Backgrounds: EL bands over every lane, the divergent op's column, faint column lines.
  const els: (1 | 2)[] = [];
  for (let k = 0; k <= n; k++) els.push(k === 0 ? (doc.ops[0]?.el ?? 2) : doc.ops[k - 1]!.elAfter);
  const elRuns = runs(els);
  out.push('<g class="el-bands">');
  for (const [a, b, el] of elRuns) {
    const xa = ivStart(g, a);
    const xb = ivEnd(g, b);
    out.push(`<rect class="el-band el${el}" x="${num(xa)}" y="${num(lanesTop)}" width="${num(xb - xa)}" height="${num(lanesBottom - lanesTop)}" fill="${el === 1 ? COLOURS.vel1 : COLOURS.vel2}"/>`);
  }
  out.push('</g>');
  if (doc.divergentOp !== undefined && doc.divergentOp >= 0 && doc.divergentOp < n) {
    const x = cx(g, doc.divergentOp) - colW / 2;
    out.push(`<rect class="first-diff-col" x="${num(x + 1)}" y="${num(markerY - 16)}" width="${num(colW - 2)}" height="${num(lanesBottom - markerY + 16)}" fill="${COLOURS.divergent}" fill-opacity="0.07" stroke="${COLOURS.divergent}" stroke-width="1.5" stroke-dasharray="4 3"/>`);
  }
  out.push('<g class="grid" stroke="#cbd5e1" stroke-width="1">');
  for (let i = 0; i < n; i++) out.push(`<line x1="${num(cx(g, i))}" y1="${num(markerY + 8)}" x2="${num(cx(g, i))}" y2="${num(lanesBottom)}" stroke-dasharray="1 3"/>`);
  out.push('</g>');

  if (hasRead) out.push(readRow(views, g, readY));

  // EL row.
  out.push(`<g class="lane el-lane"><text class="lane-name" x="8" y="${num(elY + 13)}">EL</text><text class="sub" x="${x0 - 6}" y="${num(elY + 13)}" text-anchor="end">vEL1 shaded</text>`);
  for (const [a, b, el] of elRuns) {
    const xa = ivStart(g, a);
    const xb = ivEnd(g, b);
    const t = `vEL${el}`;
    if (textW(t, SMALL) <= xb - xa - 4) out.push(`<text class="el-label" x="${num((xa + xb) / 2)}" y="${num(elY + 13)}" text-anchor="middle" fill="${el === 1 ? COLOURS.el : '#475569'}">${t}</text>`);
  }
  out.push('</g>');

  doc.timers.forEach((timer, li) => out.push(timerLane(doc, g, timer, timersTop + li * LANE_H, p)));
  if (touched.length > 0) out.push(vncrLanes(doc, g, touched, vncrTop));
  out.push(countRuler(doc, g, countRuns, countMid, countTiers, rulerY));

  // Op labels, then the markers on top (the labels never take the pointer).
  out.push('<g class="op-labels" aria-hidden="true" pointer-events="none">');
  views.forEach((v, i) => out.push(opLabel(v, g, i, headerH, tierH)));
  out.push('</g><g class="ops">');
  views.forEach((v, i) => out.push(marker(v, g, i, p)));
  out.push('</g>');

  out.push('</svg>');
  return { svg: out.join(''), geometry: g };
}

/** What each op read (or its fault, or how long a wfi slept): expected above, observed below. */
function readRow(views: readonly OpView[], g: Geometry, y: number): string {
  const out: string[] = ['<g class="lane read-lane">'];
  out.push(
    `<text class="lane-name" x="8" y="${num(y + 13)}">read</text>`,
    `<text class="sub" x="${g.x0 - 6}" y="${num(y + 11)}" text-anchor="end" fill="${COLOURS.expected}">expected</text>`,
    `<text class="sub" x="${g.x0 - 6}" y="${num(y + 25)}" text-anchor="end" fill="${COLOURS.observed}">observed</text>`,
  );
  views.forEach((v, i) => {
    const e = readText(v.op.expected);
    const o = v.op.observed === null ? readText(null) : readText(v.op.observed);
    if (!e && !o) return;
    const x = cx(g, i);
    const same = readAgrees(v.op.expected, v.op.observed);
    const unknown = v.op.expected['unknown'] !== undefined;
    const eText = e + (unknown && e ? '?' : '');
    // A difference: red at the divergent op, amber elsewhere (the property may allow it).
    const hot = v.divergent ? COLOURS.divergent : COLOURS.differ;
    const ink = v.divergent ? COLOURS.divergent : '#b45309';
    if (!same) out.push(`<rect class="read-differs" x="${num(x - g.colW / 2 + 2)}" y="${num(y)}" width="${num(g.colW - 4)}" height="${READ_H}" rx="3" fill="${hot}" fill-opacity="0.14"/>`);
    if (Math.max(textW(eText, SMALL), textW(o, SMALL)) <= g.colW - 6) {
      out.push(`<text class="val read-expected" x="${num(x)}" y="${num(y + 11)}" text-anchor="middle" fill="${COLOURS.expected}">${esc(eText)}</text>`);
      out.push(`<text class="val read-observed${same ? '' : ' differs'}" x="${num(x)}" y="${num(y + 25)}" text-anchor="middle" fill="${same ? COLOURS.observed : ink}"${same ? '' : ' font-weight="700"'}>${esc(o)}</text>`);
    } else {
      out.push(`<text class="val read-glyph" x="${num(x)}" y="${num(y + 19)}" text-anchor="middle" font-size="13" font-weight="700" fill="${same ? '#64748b' : ink}">${same ? '=' : '≠'}</text>`);
    }
  });
  out.push('</g>');
  return out.join('');
}

function stepPath(levels: readonly (boolean | undefined)[], g: Geometry, yHigh: number, yLow: number): string[] {
  const paths: string[] = [];
  let d = '';
  levels.forEach((lv, k) => {
    if (lv === undefined) {
      if (d) paths.push(d);
      d = '';
      return;
    }
    const y = lv ? yHigh : yLow;
    d += d ? ` V${num(y)} H${num(ivEnd(g, k))}` : `M${num(ivStart(g, k))} ${num(y)} H${num(ivEnd(g, k))}`;
  });
  if (d) paths.push(d);
  return paths;
}

function timerLane(doc: TimelineDoc, g: Geometry, timer: string, y: number, p: string): string {
  const n = g.n;
  const info = TIMER_INFO[timer];
  const out: string[] = [`<g class="lane timer-lane" data-timer="${esc(timer)}">`];
  out.push(`<line x1="0" y1="${num(y)}" x2="${g.width}" y2="${num(y)}" stroke="#cbd5e1"/>`);
  out.push(`<text class="lane-name" x="8" y="${num(y + 18)}">${esc(timer)}</text>`);
  if (info) {
    out.push(`<text class="sub" x="8" y="${num(y + 32)}">${esc(info.name)}</text>`);
    out.push(`<text class="sub" x="8" y="${num(y + 45)}">PPI ${info.ppi}</text>`);
  }
  const cvalY = y + 5;
  const condY = y + 24;
  const expY = y + 35;
  const obsY = y + 51;
  const lineH = 10;
  out.push(
    `<text class="sub" x="${g.x0 - 6}" y="${num(cvalY + 11)}" text-anchor="end">CVAL</text>`,
    `<text class="sub" x="${g.x0 - 6}" y="${num(condY + 7)}" text-anchor="end">cond met</text>`,
    `<text class="sub" x="${g.x0 - 6}" y="${num(expY + 9)}" text-anchor="end" fill="${COLOURS.expected}">expected</text>`,
    `<text class="sub" x="${g.x0 - 6}" y="${num(obsY + 9)}" text-anchor="end" fill="${COLOURS.observed}">observed</text>`,
  );

  // The architecture's state per interval (unknown at the start).
  const states = [undefined, ...doc.ops.map((op) => op.timerState.find((s) => s.timer === timer))];
  const stateKey = (s: (typeof states)[number]): string => (s ? `${s.cval}|${s.enable}|${s.imask}` : '');
  for (const [a, b, key] of runs(states.map(stateKey))) {
    if (!key) continue;
    const s = states[a]!;
    const xa = ivStart(g, a);
    const xb = ivEnd(g, b);
    const fill = !s.enable ? COLOURS.disabled : s.imask ? `url(#${p}masked)` : COLOURS.enabled;
    const cls = !s.enable ? 'ctl-off' : s.imask ? 'ctl-masked' : 'ctl-on';
    out.push(`<rect class="cval ${cls}" x="${num(xa + 0.5)}" y="${num(cvalY)}" width="${num(Math.max(0, xb - xa - 1))}" height="15" rx="2" fill="${fill}" stroke="#94a3b8" stroke-width="0.5"/>`);
    if (textW(s.cval, SMALL) <= xb - xa - 6) out.push(`<text class="val" x="${num((xa + xb) / 2)}" y="${num(cvalY + 11)}" text-anchor="middle">${esc(s.cval)}</text>`);
  }
  out.push(`<line x1="${g.x0}" y1="${num(condY + 3.5)}" x2="${num(g.x0 + n * g.colW)}" y2="${num(condY + 3.5)}" stroke="#e2e8f0" stroke-width="1"/>`);
  for (const [a, b, met] of runs(states.map((s) => s?.conditionMet === true))) {
    if (!met) continue;
    const xa = ivStart(g, a);
    const xb = ivEnd(g, b);
    out.push(`<rect class="cond" x="${num(xa)}" y="${num(condY)}" width="${num(xb - xa)}" height="7" fill="${COLOURS.condition}"/>`);
  }

  // The interrupt line, expected and observed: low at the start (all timers disabled).
  const exp: (boolean | undefined)[] = [false, ...doc.ops.map((op) => irqLines(op.expected).includes(timer))];
  const obs: (boolean | undefined)[] = [false];
  let failed = -1;
  doc.ops.forEach((op, i) => {
    if (failed < 0 && op.observed === null) failed = i;
    obs.push(failed >= 0 ? undefined : irqLines(op.observed).includes(timer));
  });
  for (let k = 0; k <= n; k++) {
    if (obs[k] === undefined || obs[k] === exp[k]) continue;
    let e = k;
    while (e + 1 <= n && obs[e + 1] !== undefined && obs[e + 1] !== exp[e + 1]) e++;
    const xa = ivStart(g, k);
    const xb = ivEnd(g, e);
    out.push(`<rect class="line-differs" x="${num(xa)}" y="${num(expY - 3)}" width="${num(xb - xa)}" height="${num(obsY + lineH + 3 - expY + 3)}" fill="url(#${p}hatch)"/>`);
    k = e;
  }
  for (const d of stepPath(exp, g, expY, expY + lineH)) out.push(`<path class="irq-expected" d="${d}" fill="none" stroke="${COLOURS.expected}" stroke-width="2.5"/>`);
  for (const d of stepPath(obs, g, obsY, obsY + lineH)) out.push(`<path class="irq-observed" d="${d}" fill="none" stroke="${COLOURS.observed}" stroke-width="2.5" stroke-dasharray="6 2"/>`);
  if (failed >= 0) out.push(`<text class="failed" x="${num(cx(g, failed) + 3)}" y="${num(obsY + 9)}" fill="${COLOURS.divergent}">✕ no observation</text>`);
  out.push('</g>');
  return out.join('');
}

function vncrLanes(doc: TimelineDoc, g: Geometry, slots: readonly { offset: number; key: string }[], top: number): string {
  const out: string[] = ['<g class="lane vncr-lanes">'];
  out.push(`<line x1="0" y1="${num(top)}" x2="${g.width}" y2="${num(top)}" stroke="#94a3b8"/>`);
  out.push(`<text class="lane-name" x="8" y="${num(top + 14)}">VNCR page</text><text class="sub" x="${g.x0 - 6}" y="${num(top + 14)}" text-anchor="end">slots touched</text>`);
  const accesses = doc.ops.map(pageAccesses);
  slots.forEach((slot, si) => {
    const y = top + 18 + si * SLOT_H;
    out.push(`<g class="slot" data-offset="${esc(offsetText(slot.offset))}">`);
    out.push(`<text class="slot-name" x="8" y="${num(y + 13)}">${esc(`${offsetText(slot.offset)} ${slot.key}`)}</text>`);
    // The value per interval: known from the first change on (its `before`), unknown until then.
    let cur = doc.ops.flatMap((op) => op.vncr).find((c) => c.offset === slot.offset)?.before;
    const values: (string | undefined)[] = [cur];
    const changed: boolean[] = [];
    for (const op of doc.ops) {
      const cs = op.vncr.filter((x) => x.offset === slot.offset);
      const last = cs[cs.length - 1];
      if (last) cur = last.after;
      changed.push(cs.length > 0);
      values.push(cur);
    }
    let shade = 0;
    const labels: string[] = [];
    for (const [a, b, v] of runs(values)) {
      const xa = ivStart(g, a);
      const xb = ivEnd(g, b);
      if (v === undefined) {
        out.push(`<line x1="${num(xa)}" y1="${num(y + 9)}" x2="${num(xb)}" y2="${num(y + 9)}" stroke="#cbd5e1" stroke-dasharray="2 3"/>`);
        continue;
      }
      out.push(`<rect class="slot-value" x="${num(xa + 0.5)}" y="${num(y + 2)}" width="${num(Math.max(0, xb - xa - 1))}" height="14" fill="${shade % 2 ? '#f3e8ff' : '#faf5ff'}" stroke="#d8b4fe" stroke-width="0.6"/>`);
      // Left-aligned just after the change, so that the value reads as the result of that op.
      if (textW(v, SMALL) <= xb - xa - 10) labels.push(`<text class="val halo" x="${num(xa + 6)}" y="${num(y + 13)}">${esc(v)}</text>`);
      shade++;
    }
    doc.ops.forEach((_, i) => {
      const x = cx(g, i);
      const acc = accesses[i]!.get(slot.offset);
      // A change without the guest's store: the host wrote the page (e.g. published ISTATUS).
      if (changed[i] && acc !== 'store') out.push(`<path class="host-write" d="M${num(x)} ${num(y + 3)} l4 6 l-4 6 l-4 -6 z" fill="#fff" stroke="${COLOURS.slotHost}" stroke-width="1.5"/>`);
      if (acc === 'store') out.push(`<rect class="page-store" x="${num(x - 3.5)}" y="${num(y + 5.5)}" width="7" height="7" fill="${COLOURS.slotStore}"/>`);
      else if (acc === 'load') out.push(`<circle class="page-load" cx="${num(x)}" cy="${num(y + 9)}" r="3.5" fill="#fff" stroke="${COLOURS.slotStore}" stroke-width="1.5"/>`);
    });
    out.push(...labels);
    out.push('</g>');
  });
  out.push('</g>');
  return out.join('');
}

function countRuler(doc: TimelineDoc, g: Geometry, countRuns: readonly [number, number, string][], mids: readonly number[], tiers: readonly number[] | undefined, y: number): string {
  const n = g.n;
  const out: string[] = ['<g class="lane count-ruler">'];
  out.push(`<text class="lane-name" x="8" y="${num(y + 4)}">count</text><text class="sub" x="${g.x0 - 6}" y="${num(y + 4)}" text-anchor="end">not to scale</text>`);
  // The axis, broken at every op that moved the count.
  let from = g.x0;
  doc.ops.forEach((op, i) => {
    if (sameCount(op.countBefore, op.countAfter)) return;
    const x = cx(g, i);
    out.push(`<line x1="${num(from)}" y1="${num(y)}" x2="${num(x - 5)}" y2="${num(y)}" stroke="#334155" stroke-width="1.5"/>`);
    out.push(`<path class="axis-break" d="M${num(x - 6)} ${num(y + 5)} l4 -10 M${num(x + 2)} ${num(y + 5)} l4 -10" stroke="#334155" stroke-width="1.5" fill="none"/>`);
    const d = countDelta(op.countBefore, op.countAfter);
    if (d && textW(d, 9) <= g.colW - 2) out.push(`<text class="delta" x="${num(x)}" y="${num(y - 7)}" text-anchor="middle">${esc(d)}</text>`);
    from = x + 5;
  });
  if (n > 0) out.push(`<line x1="${num(from)}" y1="${num(y)}" x2="${num(g.x0 + n * g.colW)}" y2="${num(y)}" stroke="#334155" stroke-width="1.5"/>`);
  countRuns.forEach(([a, b, c], ri) => {
    const xa = ivStart(g, a);
    const xb = ivEnd(g, b);
    const mid = mids[ri]!;
    out.push(`<path class="bracket" d="M${num(xa + 2)} ${num(y + 3)} V${num(y + 6)} H${num(xb - 2)} V${num(y + 3)}" fill="none" stroke="#94a3b8"/>`);
    if (tiers) {
      const t = tiers[ri]!;
      const ty = y + 18 + t * 14;
      if (t > 0) out.push(`<line x1="${num(mid)}" y1="${num(y + 6)}" x2="${num(mid)}" y2="${num(ty - 9)}" stroke="#94a3b8"/>`);
      out.push(`<text class="count" x="${num(mid)}" y="${num(ty)}" text-anchor="middle">${esc(c)}</text>`);
    } else {
      const ty = y + 14;
      out.push(`<text class="count" x="${num(mid + 3)}" y="${num(ty)}" text-anchor="end" transform="rotate(-${COUNT_SLANT} ${num(mid + 3)} ${num(ty)})">${esc(c)}</text>`);
    }
  });
  out.push('</g>');
  return out.join('');
}

function shapeFor(v: OpView, x: number, y: number): string {
  const route = v.op.route;
  const colour = (route && COLOURS.route[route]) ?? COLOURS.time;
  switch (v.mnemonic) {
    case 'msr':
      return `<rect class="shape" x="${num(x - 6)}" y="${num(y - 6)}" width="12" height="12" rx="1.5" fill="${colour}"/>`;
    case 'mrs':
      return `<circle class="shape" cx="${num(x)}" cy="${num(y)}" r="6" fill="#fff" stroke="${colour}" stroke-width="3"/>`;
    case 'tick':
      return `<path class="shape" d="M${num(x - 6)} ${num(y - 7)} L${num(x + 7)} ${num(y)} L${num(x - 6)} ${num(y + 7)} Z" fill="${COLOURS.time}"/>`;
    case 'preempt':
      return `<path class="shape" d="M${num(x - 6)} ${num(y - 7)} L${num(x + 7)} ${num(y)} L${num(x - 6)} ${num(y + 7)} Z" fill="#fff" stroke="${COLOURS.time}" stroke-width="2" stroke-dasharray="3 2"/>`;
    case 'wfi':
      return `<g class="shape"><path d="M${num(x - 7)} ${num(y - 7)} L${num(x + 4)} ${num(y)} L${num(x - 7)} ${num(y + 7)} Z" fill="${COLOURS.time}"/><rect x="${num(x + 4)}" y="${num(y - 7)}" width="3" height="14" fill="${COLOURS.time}"/></g>`;
    case 'eret':
      return `<path class="shape" d="M${num(x - 7)} ${num(y - 5)} L${num(x + 7)} ${num(y - 5)} L${num(x)} ${num(y + 7)} Z" fill="${COLOURS.el}"/>`;
    case 'exit':
      return `<path class="shape" d="M${num(x - 7)} ${num(y + 5)} L${num(x + 7)} ${num(y + 5)} L${num(x)} ${num(y - 7)} Z" fill="${COLOURS.el}"/>`;
    default:
      return `<path class="shape" d="M${num(x)} ${num(y - 7)} L${num(x + 7)} ${num(y)} L${num(x)} ${num(y + 7)} L${num(x - 7)} ${num(y)} Z" fill="${colour}"/>`;
  }
}

/** The op's label (in its tier, or slanted), drawn apart from its marker so that it never takes the pointer. */
function opLabel(v: OpView, g: Geometry, i: number, headerH: number, tierH: number): string {
  const x = cx(g, i);
  const y = g.markerY;
  const out: string[] = [];
  const fill = v.divergent ? COLOURS.divergent : '#0f172a';
  if (g.tiers) {
    const lines = labelLines(v);
    const bottom = headerH - g.tiers[i]! * tierH; // tier 0 right above the markers
    const top = bottom - lines.length * LINE - 4;
    lines.forEach((l, li) => {
      out.push(`<text class="op-label${li === 0 ? ' op-head' : ''}" x="${num(x)}" y="${num(top + 10 + li * LINE)}" text-anchor="middle" fill="${fill}">${esc(l)}</text>`);
    });
    out.push(`<line class="leader" x1="${num(x)}" y1="${num(bottom - 1)}" x2="${num(x)}" y2="${num(y - 9)}" stroke="#94a3b8"/>`);
  } else {
    const t = `#${v.op.index} ${v.op.text}`;
    const by = headerH - 2;
    out.push(`<text class="op-label" x="${num(x + 3)}" y="${num(by)}" text-anchor="end" transform="rotate(${SLANT} ${num(x + 3)} ${num(by)})" fill="${fill}">${esc(t)}</text>`);
    out.push(`<line class="leader" x1="${num(x)}" y1="${num(by + 1)}" x2="${num(x)}" y2="${num(y - 9)}" stroke="#94a3b8"/>`);
  }
  return out.join('');
}

/** The op's marker: a focusable group over its column's header, with the op's shape. */
function marker(v: OpView, g: Geometry, i: number, p: string): string {
  const x = cx(g, i);
  const y = g.markerY;
  const classes = ['marker', `op-${v.mnemonic.replace(/[^a-z0-9]/gi, '') || 'other'}`];
  if (v.op.route) classes.push(`route-${v.op.route}`);
  if (!v.agrees) classes.push('mismatch');
  if (v.divergent) classes.push('divergent');
  const label = `op #${v.op.index} at vEL${v.op.el}: ${v.op.text}${v.divergent ? ' (first divergence)' : !v.agrees ? ' (differs from the reference)' : ''}`;
  const out: string[] = [
    `<g class="${classes.join(' ')}" id="${p}op-${i}" data-op="${i}" tabindex="0" role="button" aria-label="${esc(label)}">`,
    `<rect class="hit" x="${num(x - g.colW / 2)}" y="${num(y - 14)}" width="${num(g.colW)}" height="28" fill="transparent"/>`,
  ];
  if (v.divergent) out.push(`<circle class="ring" cx="${num(x)}" cy="${num(y)}" r="11" fill="#fff" stroke="${COLOURS.divergent}" stroke-width="3"/>`);
  else if (!v.agrees) out.push(`<circle class="ring" cx="${num(x)}" cy="${num(y)}" r="10" fill="#fff" stroke="${COLOURS.differ}" stroke-width="2" stroke-dasharray="3 2"/>`);
  out.push(shapeFor(v, x, y));
  out.push('</g>');
  return out.join('');
}

function chartDescription(doc: TimelineDoc, views: readonly OpView[]): string {
  const n = doc.ops.length;
  const parts = [`${n} op${n === 1 ? '' : 's'} from count ${doc.ops[0]?.countBefore ?? doc.config.count}`];
  if (doc.timers.length) parts.push(`lanes for ${doc.timers.join(', ')}`);
  if (doc.slots.length) parts.push(`${doc.slots.length} VNCR slot${doc.slots.length === 1 ? '' : 's'}`);
  const differ = views.filter((v) => !v.agrees).map((v) => `#${v.op.index}`);
  if (differ.length) parts.push(`observation differs from the reference at op ${differ.join(', ')}`);
  if (doc.divergentOp !== undefined) parts.push(`first divergence at op #${doc.divergentOp}`);
  return parts.join('; ') + '. The op table below the chart holds the same data as text.';
}
