/**
 * Independent checks of the reference model: traces in test/fixtures/arch/ whose `observations`
 * were written by hand from shared/reference/arm-timer-nv2-facts.md (not produced by running the
 * code). Every op must agree: same irq, fault and elapsed; the value equal outside the fixture's
 * unknown mask; and the model's unknown mask exactly the fixture's.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ReferenceModel } from '../../models/reference/reference.js';
import { hex } from '../../models/arch/bits.js';
import { parseTraceText } from '../../src/trace/parse.js';
import { irqList, type Expectation, type Op } from '../../models/arch/vocabulary.js';

const DIR = fileURLToPath(new URL('../fixtures/arch/', import.meta.url));
const FILES = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

const opText = (op: Op): string =>
  op.op === 'msr' ? `msr ${op.reg} ${hex(op.value)}`
    : op.op === 'mrs' ? `mrs ${op.reg}`
      : op.op === 'tick' || op.op === 'preempt' ? `${op.op} ${hex(op.by)}`
        : op.op === 'wfi' ? `wfi ${hex(op.limit)}` : op.op;

/** The ways `got` disagrees with the hand-written `want`, as readable strings (empty: agrees). */
function disagreements(want: Expectation, got: Expectation): string[] {
  const out: string[] = [];
  if (got.irq !== want.irq) out.push(`irq: want [${irqList(want.irq).join(',')}] got [${irqList(got.irq).join(',')}]`);
  if (got.fault !== want.fault) out.push(`fault: want ${want.fault ?? 'none'} got ${got.fault ?? 'none'}`);
  if (got.elapsed !== want.elapsed) {
    out.push(`elapsed: want ${want.elapsed === undefined ? 'none' : hex(want.elapsed)} got ${got.elapsed === undefined ? 'none' : hex(got.elapsed)}`);
  }
  if ((got.value === undefined) !== (want.value === undefined)) {
    out.push(`value: want ${want.value === undefined ? 'none' : hex(want.value)} got ${got.value === undefined ? 'none' : hex(got.value)}`);
  } else if (got.value !== undefined && want.value !== undefined) {
    const unk = want.unknown ?? 0n;
    if (((got.value ^ want.value) & ~unk) !== 0n) out.push(`value: want ${hex(want.value)} (unknown ${hex(unk)}) got ${hex(got.value)}`);
  }
  if ((got.unknown ?? 0n) !== (want.unknown ?? 0n)) out.push(`unknown: want ${hex(want.unknown ?? 0n)} got ${hex(got.unknown ?? 0n)}`);
  return out;
}

describe('hand-written architectural fixtures (test/fixtures/arch)', () => {
  it('there are at least 8 fixtures, covering vhe, nvhe, ecv, traps, faults and wfi', () => {
    expect(FILES.length).toBeGreaterThanOrEqual(8);
    const traces = FILES.map((f) => parseTraceText(readFileSync(join(DIR, f), 'utf8'), f));
    const guests = new Set(traces.map((t) => t.config.guest));
    expect(guests).toEqual(new Set(['vhe', 'nvhe']));
    expect(traces.some((t) => t.config.features.includes('ecv'))).toBe(true);
    const all = traces.flatMap((t) => t.observations ?? []);
    expect(all.some((o) => o.fault === 'trap')).toBe(true);
    expect(all.some((o) => o.fault === 'undefined')).toBe(true);
    expect(all.some((o) => o.elapsed !== undefined)).toBe(true);
    expect(all.some((o) => 'unknown' in o && o.unknown !== undefined)).toBe(true);
    for (const t of traces) expect(t.observations).toHaveLength(t.ops.length);
  });

  it.each(FILES)('%s: the reference agrees with every hand-written observation', (file) => {
    const t = parseTraceText(readFileSync(join(DIR, file), 'utf8'), file);
    const m = new ReferenceModel(t.config);
    const problems: string[] = [];
    t.ops.forEach((op, i) => {
      const el = m.el;
      const got = m.step(op);
      const d = disagreements(t.observations![i]!, got);
      if (d.length) problems.push(`ops[${i}] (vEL${el}) ${opText(op)}: ${d.join('; ')}`);
    });
    expect(problems).toEqual([]);
  });
});
