/**
 * renderLayouts: the verdict table of `nvconform layouts --html`, with every row's minimal
 * counterexample embedded below it as a timeline section, one click (a link) away.
 */
import { esc } from './escape.js';
import { page } from './page.js';
import { timelineSection } from './timeline.js';
import type { LayoutsDoc } from './types.js';

/** The whole page: the table, the note, then one embedded timeline per row with a counterexample. */
export function renderLayouts(doc: LayoutsDoc): string {
  const out: string[] = [`<header><h1>${esc(doc.title)}</h1></header>`];
  const cxCol = doc.columns.indexOf('counterexample');
  const anyCx = doc.rows.some((r) => r.counterexample);
  const extraCol = anyCx && cxCol < 0;
  const withCx = doc.rows.filter((r) => r.counterexample).length;
  out.push(
    `<table class="verdicts" id="verdicts"><caption class="note">${doc.rows.length} row${doc.rows.length === 1 ? '' : 's'}` +
      (withCx ? `; ${withCx} with a counterexample (follow its link for the timeline)` : '') +
      '</caption><thead><tr>',
  );
  for (const c of doc.columns) out.push(`<th scope="col">${esc(c)}</th>`);
  if (extraCol) out.push('<th scope="col">timeline</th>');
  out.push('</tr></thead><tbody>');
  doc.rows.forEach((row, ri) => {
    const id = `cx-${ri}`;
    out.push(`<tr id="row-${ri}"${row.counterexample ? ' class="has-cx"' : ''}>`);
    const width = Math.max(doc.columns.length, row.cells.length);
    for (let ci = 0; ci < width; ci++) {
      const cell = row.cells[ci] ?? '';
      const cls = cell === 'pass' || cell === 'fail' ? ` class="${cell}"` : '';
      const text = esc(cell);
      if (row.counterexample && ci === cxCol) out.push(`<td${cls}><a href="#${id}" title="show the counterexample's timeline">${text || 'timeline'} ↓</a></td>`);
      else out.push(`<td${cls}>${text}</td>`);
    }
    if (extraCol) out.push(row.counterexample ? `<td><a href="#${id}">timeline ↓</a></td>` : '<td></td>');
    out.push('</tr>');
  });
  out.push('</tbody></table>');
  if (doc.note) out.push(`<p class="note">${esc(doc.note)}</p>`);
  doc.rows.forEach((row, ri) => {
    if (!row.counterexample) return;
    const label = row.cells.slice(0, 2).filter((c) => c).join(' ');
    out.push(
      `<div class="embedded">` +
        timelineSection(row.counterexample, {
          prefix: `cx-${ri}-`,
          level: 2,
          id: `cx-${ri}`,
          after: `<p class="back"><a href="#row-${ri}">↑ back to the table${label ? ` (${esc(label)})` : ''}</a></p>`,
        }) +
        '</div>',
    );
  });
  return page(doc.title, out.join('\n'));
}
