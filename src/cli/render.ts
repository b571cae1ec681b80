/** Plain-text tables for terminals and logs. */
import { hex } from '../bits.js';
import { irqList, type Expectation, type Observation, type Op } from '../trace/types.js';

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}

export function opCells(op: Op): [string, string, string] {
  switch (op.op) {
    case 'msr': return ['msr', op.reg, hex(op.value)];
    case 'mrs': return ['mrs', op.reg, ''];
    case 'tick': return ['tick', '', hex(op.by)];
    case 'preempt': return ['preempt', '', hex(op.by)];
    case 'wfi': return ['wfi', '', hex(op.limit)];
    case 'eret': return ['eret', '', ''];
    case 'exit': return ['exit', '', ''];
  }
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

/** Hex with UNKNOWN nibbles shown as `x` (a nibble partly unknown shows as `?`). */
export function maskedHex(value: bigint, unknown: bigint): string {
  if (unknown === (1n << 64n) - 1n) return 'UNKNOWN';
  let s = '';
  let v = value, u = unknown;
  do {
    const nib = Number(v & 15n), un = Number(u & 15n);
    s = (un === 15 ? 'x' : un !== 0 ? '?' : nib.toString(16)) + s;
    v >>= 4n;
    u >>= 4n;
  } while (v !== 0n || u !== 0n);
  return '0x' + s;
}
