/** `--stats` as text. */
import { TIMERS } from '../../models/arch/vocabulary.js';
import type { Coverage } from '../check/stats.js';
import { table } from './text.js';

/** The cells line and the cells no phase reached. */
export function renderCells(c: Coverage): string {
  const hit = (m: Map<string, number>): number => [...m.keys()].filter((k) => c.reachable.has(k)).length;
  const missed = c.missed();
  let s = `coverage: cells (register x EL x guest x trap state x offset x near a wrap): ${c.reachable.size} reachable; ` +
    `${hit(c.cells.exhaustive)} hit by the exhaustive phase, ${hit(c.cells.random)} by the random phase, ${missed.length} missed\n`;
  if (missed.length) s += table(['missed cell'], missed.map((k) => [k]));
  return s;
}

export function renderCoverage(c: Coverage): string {
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => a[0].localeCompare(b[0]));
  let s = renderCells(c) + '\ncoverage: ops (random phase)\n' + table(['op', 'count'], sorted(c.ops).map(([k, v]) => [k, String(v)]));
  s += '\ncoverage: register x EL x guest (accesses, random phase)\n' +
    table(['register', 'EL', 'guest', 'count'], sorted(c.access).map(([k, v]) => [...k.split('\t'), String(v)]));
  s += '\ncoverage: timer interrupts raised (architecture)\n' +
    table(['timer / context / by', 'count'], sorted(c.fired).map(([k, v]) => [k, String(v)]));
  const never = TIMERS.filter((t) => ![...c.fired.keys()].some((k) => k.startsWith(t)));
  if (never.length) s += `never fired: ${never.join(', ')}\n`;
  s += '\ncoverage: faults (architecture)\n' + table(['fault', 'count'], sorted(c.faults).map(([k, v]) => [k, String(v)]));
  return s;
}
