/**
 * Plain-text renderings shared by every report (check's, the QEMU cross-check's): tables, and an
 * observation as a short string. In the trace layer so that every layer above can use them.
 */
import { hex, maskedHex } from '../../models/arch/bits.js';
import { irqList, type Expectation, type Observation } from '../../models/arch/vocabulary.js';
import { opCells } from './format.js';

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  // Loops, not spreads: a table of 150,000 rows must not exceed the argument limit of Math.max.
  const widths = header.map((h) => h.length);
  for (const r of rows) {
    for (let i = 0; i < widths.length; i++) {
      const n = (r[i] ?? '').length;
      if (n > widths[i]!) widths[i] = n;
    }
  }
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  let s = line(header) + '\n' + line(widths.map((w) => '-'.repeat(w))) + '\n';
  for (const r of rows) s += line(r) + '\n';
  return s;
}

/** An op's table cells (op, register, value); a switch in the trace layer, since it is hot (one call per row of `run`). */
export { opCells };

/** One observation (or expectation) as a short string: `value=0x5 irq=[vtimer]`, with x for UNKNOWN digits' bits. */
export function obsText(o: Observation | Expectation): string {
  const parts: string[] = [];
  if (o.fault) parts.push(`fault=${o.fault}`);
  if (o.value !== undefined) {
    const unk = 'unknown' in o ? (o.unknown ?? 0n) : 0n;
    parts.push(`value=${unk === 0n ? hex(o.value) : maskedHex(o.value, unk)}`);
  }
  if (o.elapsed !== undefined) parts.push(`elapsed=${hex(o.elapsed)}`);
  parts.push(`irq=[${irqList(o.irq).join(',')}]`);
  return parts.join(' ');
}
