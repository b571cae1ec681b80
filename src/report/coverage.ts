/** `--stats` as text. */
import { TIMERS } from '../../models/arch/vocabulary.js';
import type { Coverage } from '../check/stats.js';
import { table } from './text.js';

export function renderCoverage(c: Coverage): string {
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => a[0].localeCompare(b[0]));
  let s = 'coverage: ops\n' + table(['op', 'count'], sorted(c.ops).map(([k, v]) => [k, String(v)]));
  s += '\ncoverage: register x EL x guest (accesses)\n' +
    table(['register', 'EL', 'guest', 'count'], sorted(c.access).map(([k, v]) => [...k.split('\t'), String(v)]));
  s += '\ncoverage: timer interrupts raised (architecture)\n' +
    table(['timer / context / by', 'count'], sorted(c.fired).map(([k, v]) => [k, String(v)]));
  const never = TIMERS.filter((t) => ![...c.fired.keys()].some((k) => k.startsWith(t)));
  if (never.length) s += `never fired: ${never.join(', ')}\n`;
  s += '\ncoverage: faults (architecture)\n' + table(['fault', 'count'], sorted(c.faults).map(([k, v]) => [k, String(v)]));
  return s;
}
