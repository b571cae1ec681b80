/** Plain-text tables for terminals and logs. */
import { hex, maskedHex } from '../../models/arch/bits.js';
import { match } from 'ts-pattern';
import { irqList, type Expectation, type Observation, type Op } from '../../models/arch/vocabulary.js';

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}

export function opCells(op: Op): [string, string, string] {
  return match(op)
    .returnType<[string, string, string]>()
    .with({ op: 'msr' }, (o) => ['msr', o.reg, hex(o.value)])
    .with({ op: 'mrs' }, (o) => ['mrs', o.reg, ''])
    .with({ op: 'tick' }, { op: 'preempt' }, (o) => [o.op, '', hex(o.by)])
    .with({ op: 'wfi' }, (o) => ['wfi', '', hex(o.limit)])
    .with({ op: 'wfit' }, (o) => ['wfit', '', hex(o.deadline)])
    .with({ op: 'eret' }, { op: 'exit' }, (o) => [o.op, '', ''])
    .exhaustive();
}

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

export { maskedHex };
