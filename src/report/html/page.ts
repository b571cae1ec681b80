/**
 * The page shell shared by both reports: the document skeleton, the inline style sheet and the
 * small inline script (hover, focus and pin of an op's details; copy of the replay command).
 * Nothing from a document ever reaches the script: it reads the DOM, which holds escaped text.
 */
import { esc } from './escape.js';

const CSS = `
:root { color-scheme: light; --ink: #0f172a; --muted: #475569; --line: #cbd5e1; --red: #dc2626; --amber: #f59e0b; }
* { box-sizing: border-box; }
body { margin: 0; padding: 16px 24px 48px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: var(--ink); background: #fff; }
h1 { font-size: 20px; margin: 0 0 2px; }
h2 { font-size: 17px; margin: 24px 0 6px; }
h3 { font-size: 14px; margin: 0 0 6px; }
code, .mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
.subtitle { margin: 0; color: var(--muted); }
.meta { margin: 6px 0 0; color: var(--muted); }
.meta b { color: var(--ink); font-weight: 600; }
.verdict { display: inline-block; padding: 0 8px; border-radius: 3px; font-weight: 700; color: #fff; letter-spacing: .04em; }
.verdict.fail { background: var(--red); }
.verdict.pass { background: #15803d; }
.banner { margin: 10px 0 6px; padding: 8px 12px; border-left: 6px solid var(--red); background: #fef2f2; max-width: 1232px; }
.banner strong { color: #991b1b; }
.banner button, .replay button { font: inherit; font-size: 12px; padding: 1px 8px; margin-left: 6px; cursor: pointer; }
.replay { margin: 6px 0 10px; display: flex; gap: 8px; align-items: baseline; max-width: 1232px; }
.replay code { flex: 1; display: block; padding: 4px 8px; background: #f1f5f9; border: 1px solid var(--line); border-radius: 3px; overflow-wrap: anywhere; user-select: all; }
figure { margin: 0; }
.scroll { overflow-x: auto; max-width: 100%; border: 1px solid var(--line); border-radius: 4px; }
svg.chart { display: block; font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 10px; }
svg.chart .op-label { font-size: 11px; }
svg.chart .op-head { font-weight: 700; }
svg.chart .lane-name { font: 600 12px system-ui, "DejaVu Sans", sans-serif; fill: var(--ink); }
svg.chart .sub, svg.chart .slot-name, svg.chart .count, svg.chart .delta, svg.chart .el-label { fill: var(--muted); }
svg.chart .delta { font-size: 9px; }
svg.chart .count { fill: var(--ink); }
svg.chart .val { fill: var(--ink); }
svg.chart .halo { paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }
svg.chart .failed { font-weight: 700; }
svg.chart .marker { cursor: pointer; outline: none; }
svg.chart .marker:focus-visible .hit, svg.chart .marker.active .hit { fill: #0f172a; fill-opacity: .06; }
svg.chart .marker:focus-visible .shape { stroke: #000; stroke-width: 2; }
figcaption.legend { margin: 6px 0 0; font-size: 12px; color: var(--muted); max-width: 1232px; }
.legend .items { display: flex; flex-wrap: wrap; gap: 3px 16px; }
.legend span.item { display: inline-flex; align-items: center; gap: 5px; }
.legend svg { flex: none; }
.legend .axis-note, .slot-note { margin: 4px 0 0; font-size: 12px; color: var(--muted); max-width: 1232px; }
.details { position: fixed; z-index: 10; width: 420px; max-width: calc(100vw - 20px); max-height: calc(100vh - 20px); overflow: auto; padding: 10px 12px; background: #fff; border: 1px solid #64748b; border-radius: 5px; box-shadow: 0 6px 24px rgba(15,23,42,.22); font-size: 12.5px; }
.details[hidden], .op-detail[hidden] { display: none; }
.details .pin-bar { display: none; justify-content: space-between; align-items: center; margin: -4px 0 6px; font-size: 11px; color: var(--muted); }
.details.pinned { border-color: var(--ink); border-width: 2px; }
.details.pinned .pin-bar { display: flex; }
.details dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 0 0 6px; }
.details dt { color: var(--muted); }
.details dd { margin: 0; overflow-wrap: anywhere; }
.details ul { margin: 0; padding-left: 16px; }
.details .why { margin: 0 0 6px; padding: 4px 8px; background: #fef2f2; border-left: 4px solid var(--red); }
.differs { color: #b45309; font-weight: 600; }
table { border-collapse: collapse; }
table.ops, table.tstate, table.verdicts { font-size: 12.5px; }
table.ops th, table.ops td, table.verdicts th, table.verdicts td { border-bottom: 1px solid #e2e8f0; padding: 3px 8px; text-align: left; vertical-align: top; }
table.ops th, table.verdicts th { background: #f1f5f9; position: sticky; top: 0; }
table.ops td.hw { max-width: 420px; }
table.ops tr.diff-row td { background: #fef2f2; }
table.ops tr.diff-row td:first-child { box-shadow: inset 4px 0 var(--red); }
table.ops tr.mismatch-row td:first-child { box-shadow: inset 4px 0 var(--amber); }
table.tstate caption { text-align: left; color: var(--muted); font-size: 11px; }
table.tstate th, table.tstate td { padding: 1px 6px; border-bottom: 1px solid #e2e8f0; text-align: left; }
table.verdicts caption { text-align: left; padding: 0 0 4px; }
table.verdicts td.pass { color: #166534; font-weight: 600; }
table.verdicts td.fail { color: #991b1b; font-weight: 600; }
table.verdicts tr.has-cx td { background: #fffbeb; }
.nvc-timeline { margin: 0 0 28px; }
.embedded { border-top: 2px solid var(--line); padding-top: 8px; }
.back { font-size: 12px; }
.note { color: var(--muted); max-width: 1232px; }
`;

/*
 * The script: for every .nvc-timeline section, hovering a column of its chart (or focusing an op
 * marker) shows that op's details in the section's .details panel, next to the marker; a click
 * (or Enter/Space) pins it until a second click, Escape, the close button or a click elsewhere.
 */
const SCRIPT = `
(function () {
  'use strict';
  var GAP = 12;
  function setup(root) {
    var panel = root.querySelector('.details');
    var svg = root.querySelector('svg.chart');
    if (!panel || !svg) return;
    var sections = panel.querySelectorAll('.op-detail');
    var x0 = Number(svg.getAttribute('data-x0')), colW = Number(svg.getAttribute('data-colw'));
    var n = Number(svg.getAttribute('data-n')), top = Number(svg.getAttribute('data-top'));
    var pinned = -1, shown = -1, timer = 0;
    function markerOf(i) { return root.querySelector('.marker[data-op="' + i + '"]'); }
    function place(i) {
      var m = markerOf(i);
      var anchor = m && (m.querySelector('.shape') || m);
      if (!anchor) return;
      var r = anchor.getBoundingClientRect();
      var w = panel.offsetWidth, h = panel.offsetHeight;
      var vw = document.documentElement.clientWidth, vh = window.innerHeight;
      var left = r.right + GAP;
      if (left + w > vw - 8) left = r.left - GAP - w;
      if (left < 8) left = Math.max(8, vw - w - 8);
      var t = r.bottom + GAP;
      if (t + h > vh - 8) t = Math.max(8, vh - h - 8);
      panel.style.left = Math.round(left) + 'px';
      panel.style.top = Math.round(t) + 'px';
    }
    function show(i) {
      clearTimeout(timer);
      if (i === shown && !panel.hidden) return;
      for (var k = 0; k < sections.length; k++) sections[k].hidden = sections[k].getAttribute('data-detail') !== String(i);
      var old = root.querySelectorAll('.marker.active');
      for (var j = 0; j < old.length; j++) old[j].classList.remove('active');
      var m = markerOf(i);
      if (m) m.classList.add('active');
      panel.hidden = false;
      shown = i;
      place(i);
    }
    function hide() {
      if (pinned >= 0) return;
      panel.hidden = true;
      shown = -1;
      var old = root.querySelectorAll('.marker.active');
      for (var j = 0; j < old.length; j++) old[j].classList.remove('active');
    }
    function later() { clearTimeout(timer); timer = setTimeout(hide, 250); }
    function pin(i) { pinned = i; panel.classList.add('pinned'); shown = -1; show(i); }
    function unpin() { pinned = -1; panel.classList.remove('pinned'); hide(); }
    function toggle(i) { if (pinned === i) unpin(); else pin(i); }
    function column(ev) {
      var r = svg.getBoundingClientRect();
      var x = ev.clientX - r.left, y = ev.clientY - r.top;
      var i = Math.floor((x - x0) / colW);
      return i >= 0 && i < n && (y >= top || ev.target.closest('.marker')) ? i : -1;
    }
    svg.addEventListener('mousemove', function (ev) {
      if (pinned >= 0) return;
      var i = column(ev);
      if (i >= 0) show(i); else later();
    });
    svg.addEventListener('mouseleave', function () { if (pinned < 0) later(); });
    svg.addEventListener('click', function (ev) {
      var i = column(ev);
      if (i >= 0) { ev.stopPropagation(); toggle(i); }
    });
    var markers = root.querySelectorAll('.marker');
    for (var k = 0; k < markers.length; k++) {
      (function (m) {
        var i = Number(m.getAttribute('data-op'));
        m.addEventListener('focus', function () { if (pinned < 0) show(i); });
        m.addEventListener('blur', function () { if (pinned < 0) later(); });
        m.addEventListener('keydown', function (ev) {
          if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); toggle(i); }
        });
      })(markers[k]);
    }
    panel.addEventListener('mouseenter', function () { clearTimeout(timer); });
    panel.addEventListener('mouseleave', function () { if (pinned < 0) later(); });
    panel.addEventListener('click', function (ev) { ev.stopPropagation(); });
    var close = panel.querySelector('.unpin');
    if (close) close.addEventListener('click', function () { var i = pinned; unpin(); var m = markerOf(i); if (m) m.focus(); });
    var jump = root.querySelectorAll('[data-pin]');
    for (var q = 0; q < jump.length; q++) {
      jump[q].addEventListener('click', function (ev) {
        ev.stopPropagation();
        var i = Number(this.getAttribute('data-pin'));
        var m = markerOf(i);
        if (m) { m.scrollIntoView({ block: 'nearest', inline: 'center' }); m.focus({ preventScroll: true }); }
        pin(i);
      });
    }
    document.addEventListener('keydown', function (ev) { if (ev.key === 'Escape' && pinned >= 0) unpin(); });
    document.addEventListener('click', function () { if (pinned >= 0) unpin(); });
    window.addEventListener('resize', function () { if (shown >= 0) place(shown); });
  }
  var roots = document.querySelectorAll('.nvc-timeline');
  for (var r = 0; r < roots.length; r++) setup(roots[r]);
  var copies = document.querySelectorAll('button[data-copy]');
  for (var c = 0; c < copies.length; c++) {
    copies[c].addEventListener('click', function () {
      var btn = this, code = document.getElementById(btn.getAttribute('data-copy'));
      if (!code) return;
      var text = code.textContent || '';
      function done(ok) { btn.textContent = ok ? 'copied' : 'select and copy'; setTimeout(function () { btn.textContent = 'copy'; }, 1500); }
      var sel = window.getSelection(), range = document.createRange();
      range.selectNodeContents(code);
      if (sel) { sel.removeAllRanges(); sel.addRange(range); }
      if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(false); });
      else { var ok = false; try { ok = document.execCommand('copy'); } catch (e) { ok = false; } done(ok); }
    });
  }
})();
`;

/** One complete HTML page around `body` (already escaped HTML). */
export function page(title: string, body: string): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // No network: forbid every load the page itself does not contain.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">`,
    `<title>${esc(title)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    body,
    `<script>${SCRIPT}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
