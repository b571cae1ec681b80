/**
 * renderTimeline: one TimelineDoc as a self-contained HTML page: heading, the first divergence
 * in a banner, the replay command, the chart (svg.ts) with its legend, one details panel per op
 * (shown on hover, focus or click) and the op table (the chart's text alternative).
 */
import { esc } from './escape.js';
import { agrees, countDelta, observationText, offsetText } from './format.js';
import { page } from './page.js';
import { COLOURS, renderChart, slotsOf } from './svg.js';
import type { TimelineDoc, TimelineOp } from './types.js';

/** The whole page for one counterexample (or any trace run on both models). */
export function renderTimeline(doc: TimelineDoc): string {
  return page(doc.title, timelineSection(doc, { prefix: '', level: 1 }));
}

/** Options of `timelineSection`. */
export interface SectionOptions {
  /** Prefix of every id in the section, so that several sections can share a page. Default "" (ids `details`, `token`, ...). */
  readonly prefix?: string;
  /** Heading level of the title: 1 for a page of its own, 2 or 3 inside another page. Default 1. */
  readonly level?: 1 | 2 | 3;
  /** Extra HTML (already escaped) put right after the heading, e.g. a link back to a table. Default none. */
  readonly after?: string;
  /** The section element's id. Default none. */
  readonly id?: string;
}

const ROUTE_TEXT: Readonly<Record<string, string>> = {
  vncr: 'VNCR page (a plain load or store)',
  hw: 'hardware timer registers',
  trap: 'trap to the host',
  undefined: 'UNDEFINED',
};

/** One timeline as an HTML fragment (a `<section class="nvc-timeline">`). */
export function timelineSection(doc: TimelineDoc, options: SectionOptions = {}): string {
  const p = options.prefix ?? '';
  const level = options.level ?? 1;
  const h = `h${level}`;
  const out: string[] = [];
  out.push(`<section class="nvc-timeline"${options.id ? ` id="${esc(options.id)}"` : ''}>`);
  out.push(`<header><${h}>${esc(doc.title)}</${h}>`);
  if (doc.subtitle) out.push(`<p class="subtitle">${esc(doc.subtitle)}</p>`);
  out.push(`<p class="meta">${metaLine(doc)}</p></header>`);
  if (options.after) out.push(options.after);

  const d = doc.divergentOp;
  const dop = d !== undefined ? doc.ops[d] : undefined;
  if (d !== undefined) {
    out.push(
      `<div class="banner" id="${p}divergence"><strong>First divergence at op #${d}</strong>` +
        (doc.explanation ? ` — <span class="explanation">${esc(doc.explanation)}</span>` : dop ? ` — <code>${esc(dop.text)}</code> at vEL${dop.el}` : '') +
        (dop ? ` <button type="button" data-pin="${d}">show op #${d}</button>` : '') +
        '</div>',
    );
  } else if (doc.explanation) {
    out.push(`<div class="banner" id="${p}divergence"><span class="explanation">${esc(doc.explanation)}</span></div>`);
  }
  if (doc.token) {
    out.push(
      `<p class="replay"><span>replay</span><code id="${p}token">nvconform replay ${esc(doc.token)}</code>` +
        `<button type="button" data-copy="${p}token" title="copy the replay command">copy</button></p>`,
    );
  }

  const { svg } = renderChart(doc, p);
  const { untouched } = slotsOf(doc);
  const slotNote = untouched.length
    ? `<p class="slot-note">VNCR slot${untouched.length === 1 ? '' : 's'} of the layout not touched by this trace: ${untouched.map((s) => `<code>${esc(`${offsetText(s.offset)} ${s.key}`)}</code>`).join(', ')}.</p>`
    : doc.slots.length === 0
      ? '<p class="slot-note">The layout gives the timers no VNCR slot.</p>'
      : '';
  out.push(`<figure><div class="scroll">${svg}</div>${legend(p)}${slotNote}</figure>`);
  out.push(detailsPanel(doc, p));
  out.push(opTable(doc, p, level));
  out.push('</section>');
  return out.join('\n');
}

function metaLine(doc: TimelineDoc): string {
  const parts: string[] = [];
  if (doc.verdict) parts.push(`<span class="verdict ${doc.verdict}">${doc.verdict.toUpperCase()}</span>`);
  if (doc.property) parts.push(`property <b>${esc(doc.property)}</b>`);
  parts.push(`guest <b>${esc(doc.config.guest)}</b>`);
  parts.push(`features <b>${doc.config.features.length ? esc(doc.config.features.join(', ')) : 'none'}</b>`);
  parts.push(`start count <b class="mono">${esc(doc.config.count)}</b>`);
  const init = Object.keys(doc.config.init).sort();
  if (init.length) parts.push(`init <span class="mono">${init.map((k) => esc(`${k}=${doc.config.init[k]}`)).join(' ')}</span>`);
  if (doc.seed !== undefined) parts.push(`seed <b>${esc(String(doc.seed))}</b>`);
  return parts.join(' · ');
}

/** A small inline SVG swatch for the legend. */
function swatch(inner: string, w = 28, h = 14): string {
  return `<svg width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" aria-hidden="true">${inner}</svg>`;
}

function legend(p: string): string {
  const item = (sw: string, text: string): string => `<span class="item">${sw}${text}</span>`;
  const r = COLOURS.route;
  const items = [
    item(swatch(`<path d="M0 11 H10 V3 H28" fill="none" stroke="${COLOURS.expected}" stroke-width="2.5"/>`), 'line expected (reference)'),
    item(swatch(`<path d="M0 11 H10 V3 H28" fill="none" stroke="${COLOURS.observed}" stroke-width="2.5" stroke-dasharray="6 2"/>`), 'line observed (implementation); high = asserted'),
    item(swatch(`<rect width="28" height="14" fill="url(#${p}hatch)"/>`), 'observed line differs from expected'),
    item(swatch(`<rect x="1" y="1" width="26" height="12" fill="none" stroke="${COLOURS.divergent}" stroke-width="2" stroke-dasharray="4 3"/><circle cx="14" cy="7" r="5" fill="#fff" stroke="${COLOURS.divergent}" stroke-width="2.5"/>`), 'first divergence the property rejects'),
    item(swatch(`<circle cx="14" cy="7" r="5" fill="#fff" stroke="${COLOURS.differ}" stroke-width="2" stroke-dasharray="3 2"/>`), 'observation differs (the property may allow it)'),
    item(swatch(`<rect y="4" width="28" height="6" fill="${COLOURS.condition}"/>`), 'timer condition met'),
    item(swatch(`<rect x="0" y="1" width="9" height="12" fill="${COLOURS.enabled}" stroke="#94a3b8" stroke-width="0.5"/><rect x="10" y="1" width="8" height="12" fill="url(#${p}masked)" stroke="#94a3b8" stroke-width="0.5"/><rect x="19" y="1" width="9" height="12" fill="${COLOURS.disabled}" stroke="#94a3b8" stroke-width="0.5"/>`), 'CVAL strip: enabled / masked / disabled'),
    item(swatch(`<rect width="13" height="14" fill="${COLOURS.vel2}" stroke="#cbd5e1"/><rect x="14" width="14" height="14" fill="${COLOURS.vel1}"/>`), 'vEL2 (guest hypervisor) / vEL1 (nested guest)'),
    item(swatch(`<rect x="2" y="2" width="10" height="10" fill="${r['vncr']}"/><circle cx="21" cy="7" r="4.5" fill="#fff" stroke="${r['vncr']}" stroke-width="2.5"/>`), 'msr / mrs served by the VNCR page'),
    item(swatch(`<rect x="2" y="2" width="10" height="10" fill="${r['hw']}"/><circle cx="21" cy="7" r="4.5" fill="#fff" stroke="${r['hw']}" stroke-width="2.5"/>`), 'by the hardware'),
    item(swatch(`<rect x="2" y="2" width="10" height="10" fill="${r['trap']}"/><circle cx="21" cy="7" r="4.5" fill="#fff" stroke="${r['trap']}" stroke-width="2.5"/>`), 'trapped to the host'),
    item(swatch(`<rect x="2" y="2" width="10" height="10" fill="${r['undefined']}"/>`), 'UNDEFINED / other'),
    item(swatch(`<path d="M2 1 L13 7 L2 13 Z" fill="${COLOURS.time}"/><path d="M16 2 L28 2 L22 12 Z" fill="${COLOURS.el}"/>`), 'tick, wfi, preempt (hollow) / eret ▼, exit ▲'),
    item(swatch(`<rect x="3" y="3" width="7" height="7" fill="${COLOURS.slotStore}"/><circle cx="16" cy="7" r="3.5" fill="#fff" stroke="${COLOURS.slotStore}" stroke-width="1.5"/><path d="M24 1 l4 6 l-4 6 l-4 -6 z" fill="#fff" stroke="${COLOURS.slotHost}" stroke-width="1.5"/>`), 'VNCR slot: guest store / guest load / host write'),
  ];
  const axis =
    '<p class="axis-note">Horizontal axis: one column per op, in trace order (op-index axis, not to scale in time). ' +
    'The physical count is annotated on the bottom ruler: one label per run of ops at the same count; ' +
    '<b>//</b> marks an op that moved the count (tick, wfi, preempt), with the counts that passed. ' +
    'The state after op #i holds from its marker to the next. Hover, focus or click an op for its details.</p>';
  return `<figcaption class="legend"><div class="items">${items.join('')}</div>${axis}</figcaption>`;
}

function opFields(op: TimelineOp): [string, string][] {
  const order = ['reg', 'value', 'by', 'limit'];
  const keys = Object.keys(op.op).filter((k) => k !== 'op');
  keys.sort((a, b) => {
    const ia = order.indexOf(a);
    const ib = order.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || (a < b ? -1 : a > b ? 1 : 0);
  });
  const names: Readonly<Record<string, string>> = { reg: 'register' };
  return keys.map((k) => [names[k] ?? k, op.op[k] ?? '']);
}

function countText(op: TimelineOp): string {
  const d = countDelta(op.countBefore, op.countAfter);
  return d ? `${op.countBefore} → ${op.countAfter} (${d})` : op.countBefore;
}

function detailsPanel(doc: TimelineDoc, p: string): string {
  const out: string[] = [
    `<div id="${p}details" class="details" role="region" aria-label="details of the op under the pointer" aria-live="polite" hidden>`,
    '<div class="pin-bar"><span>pinned — Esc or click elsewhere to unpin</span><button type="button" class="unpin">close</button></div>',
  ];
  for (const op of doc.ops) {
    const first = doc.divergentOp === op.index;
    const ok = agrees(op.expected, op.observed);
    out.push(`<section class="op-detail" data-detail="${op.index}" hidden>`);
    out.push(`<h3>#${op.index} <code>${esc(op.text)}</code></h3>`);
    if (first && doc.explanation) out.push(`<p class="why"><b>First divergence.</b> ${esc(doc.explanation)}</p>`);
    else if (first) out.push('<p class="why"><b>First divergence.</b></p>');
    out.push('<dl>');
    const row = (k: string, v: string): void => void out.push(`<dt>${k}</dt><dd>${v}</dd>`);
    row('EL', op.el === op.elAfter ? `vEL${op.el}` : `vEL${op.el} → vEL${op.elAfter}`);
    for (const [k, v] of opFields(op)) row(esc(k), `<code>${esc(v)}</code>`);
    row('count', `<code>${esc(countText(op))}</code>`);
    row('expected', `<code>${esc(observationText(op.expected))}</code>`);
    row('observed', `<code class="observed">${esc(observationText(op.observed))}</code>${ok ? '' : ' <span class="differs">differs</span>'}`);
    if (op.route) row('route', esc(ROUTE_TEXT[op.route] ?? op.route));
    if (op.hardware.length) row('hardware', `<ul>${op.hardware.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>`);
    if (op.timerMap) row('timer map', esc(op.timerMap));
    if (op.vncr.length) row('VNCR', `<ul>${op.vncr.map((c) => `<li><code>${esc(`${offsetText(c.offset)} ${c.key}: ${c.before} → ${c.after}`)}</code></li>`).join('')}</ul>`);
    out.push('</dl>');
    const states = op.timerState.filter((s) => doc.timers.length === 0 || (doc.timers as readonly string[]).includes(s.timer));
    if (states.length) {
      out.push('<table class="tstate"><caption class="sub">the architecture after the op</caption><thead><tr><th>timer</th><th>ENABLE</th><th>IMASK</th><th>CVAL</th><th>offset</th><th>cond</th></tr></thead><tbody>');
      for (const s of states) {
        out.push(
          `<tr><td>${esc(s.timer)}</td><td>${s.enable ? 1 : 0}</td><td>${s.imask ? 1 : 0}</td><td><code>${esc(s.cval)}</code></td><td><code>${esc(s.offset)}</code></td><td>${s.conditionMet ? 'met' : '—'}</td></tr>`,
        );
      }
      out.push('</tbody></table>');
    }
    out.push('</section>');
  }
  out.push('</div>');
  return out.join('');
}

function opTable(doc: TimelineDoc, p: string, level: 1 | 2 | 3): string {
  const h = `h${Math.min(level + 1, 4)}`;
  const out: string[] = [`<${h}>Ops</${h}>`];
  out.push('<table class="ops"><thead><tr><th>#</th><th>EL</th><th>op</th><th>count</th><th>expected</th><th>observed</th><th>route</th><th>hardware / host</th><th>timer map</th></tr></thead><tbody>');
  for (const op of doc.ops) {
    const first = doc.divergentOp === op.index;
    const ok = agrees(op.expected, op.observed);
    const cls = first ? ' class="diff-row"' : ok ? '' : ' class="mismatch-row"';
    const hw = [...op.hardware, ...op.vncr.map((c) => `VNCR[${offsetText(c.offset)}] ${c.key}: ${c.before} → ${c.after}`)];
    out.push(
      `<tr id="${p}op-row-${op.index}"${cls}>` +
        `<td>${first ? '&gt;' : ''}${op.index}</td>` +
        `<td>vEL${op.el}${op.elAfter !== op.el ? `→${op.elAfter}` : ''}</td>` +
        `<td><code>${esc(op.text)}</code></td>` +
        `<td><code>${esc(countText(op))}</code></td>` +
        `<td><code>${esc(observationText(op.expected))}</code></td>` +
        `<td><code>${esc(observationText(op.observed))}</code>${ok ? '' : ' <span class="differs">≠</span>'}</td>` +
        `<td>${esc(op.route ?? '')}</td>` +
        `<td class="hw">${hw.map(esc).join('<br>')}</td>` +
        `<td>${esc(op.timerMap ?? '')}</td>` +
        '</tr>',
    );
  }
  out.push('</tbody></table>');
  if (doc.ops.length === 0) out.push('<p class="note">The trace has no ops.</p>');
  return out.join('');
}
