/** Helpers for the plug-in tests: running traces on an implementation next to the reference. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { ReferenceModel } from '../../models/reference/reference.js';
import { REGISTER_NAMES } from '../../models/arch/registers.js';
import type { Implementation } from '../../models/arch/implementation.js';
import { parseTraceText } from '../../src/trace/parse.js';
import type { Expectation, Observation, Op, Trace, TraceConfig } from '../../models/arch/vocabulary.js';

const MASK = (1n << 64n) - 1n;

/** The trace format's agreement rule: irq, fault, elapsed equal; value equal outside `unknown`. */
export function agrees(exp: Expectation, obs: Observation): boolean {
  if (exp.irq !== obs.irq || exp.fault !== obs.fault || exp.elapsed !== obs.elapsed) return false;
  if ((exp.value === undefined) !== (obs.value === undefined)) return false;
  if (exp.value === undefined) return true;
  const known = ~(exp.unknown ?? 0n) & MASK;
  return (exp.value & known) === (obs.value! & known);
}

export interface Divergence {
  readonly index: number;
  readonly op: Op;
  readonly expected: Expectation;
  readonly observed: Observation;
}

/** Run `trace` on `impl` (reset first) and on the reference; the first op where they disagree, if any. */
export async function firstDivergence(impl: Implementation, trace: Pick<Trace, 'config' | 'ops'>): Promise<Divergence | undefined> {
  const ref = new ReferenceModel(trace.config);
  await impl.reset(trace.config);
  for (const [index, op] of trace.ops.entries()) {
    const expected = ref.step(op);
    const observed = await impl.step(op);
    if (!agrees(expected, observed)) return { index, op, expected, observed };
  }
  return undefined;
}

/** Every trace in examples/ and examples/plugin/ (the hand-written ones the plug-ins must pass). */
export function exampleTraces(): { file: string; trace: Trace }[] {
  const files = ['examples', 'examples/plugin'].flatMap((d) =>
    readdirSync(d).filter((f) => f.endsWith('.json')).map((f) => join(d, f)));
  return files.map((file) => ({ file, trace: parseTraceText(readFileSync(file, 'utf8'), file) }));
}

export function loadTrace(file: string): Trace {
  return parseTraceText(readFileSync(file, 'utf8'), file);
}

// ---- random valid traces ----

const BIG = (1n << 64n) - 1n;
const value64 = fc.oneof(
  fc.bigInt({ min: 0n, max: 0x40n }),
  fc.bigInt({ min: 0n, max: 0xffffn }),
  fc.constantFrom(0xffffffffn, 0xfffffff0n, 0x80000000n, 0x7fffffffn, BIG, BIG - 0x10n, 1n << 63n, 0x1_0000_0010n),
  fc.bigInt({ min: 0n, max: BIG }),
);
/** CNTHCTL_EL2 values that open or close the nested guest's traps in both layouts, plus ECV bits. */
const cnthctl = fc.oneof(
  fc.constantFrom(0n, 0x3n, 0xc00n, 0xc03n, 0x1000n, 0x1c03n, 0x2000n, 0x4000n, 0x6c03n, 0x7c03n, 0x3fc03n),
  fc.bigInt({ min: 0n, max: 0x3ffffn }),
);
const REGS = REGISTER_NAMES;

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('msr' as const), reg: fc.constantFrom(...REGS), value: value64 }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('msr' as const), reg: fc.constantFrom('CNTHCTL_EL2', 'CNTKCTL_EL1'), value: cnthctl }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('msr' as const), reg: fc.constantFrom('CNTP_CTL_EL0', 'CNTV_CTL_EL0', 'CNTP_CTL_EL02', 'CNTV_CTL_EL02', 'CNTHP_CTL_EL2', 'CNTHV_CTL_EL2'), value: fc.bigInt({ min: 0n, max: 7n }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('mrs' as const), reg: fc.constantFrom(...REGS) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constantFrom('tick' as const, 'preempt' as const), by: fc.oneof(fc.bigInt({ min: 0n, max: 0x40n }), value64) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('wfi' as const), limit: fc.oneof(fc.bigInt({ min: 0n, max: 0x100n }), value64) }) },
  { weight: 2, arbitrary: fc.constantFrom<Op>({ op: 'eret' }, { op: 'exit' }) },
);

const INIT_REGS = ['CNTVOFF_EL2', 'CNTPOFF_EL2', 'CNTHCTL_EL2', 'CNTKCTL_EL1', 'CNTHP_CVAL_EL2', 'CNTHV_CVAL_EL2', 'CNTHP_CTL_EL2', 'CNTHV_CTL_EL2', 'CNTP_CVAL_EL02', 'CNTV_CTL_EL02', 'CNTV_CVAL_EL0'];

const configArb: fc.Arbitrary<TraceConfig> = fc.record({
  guest: fc.constantFrom('vhe' as const, 'nvhe' as const),
  features: fc.constantFrom([] as 'ecv'[], ['ecv' as const]),
  count: fc.oneof(fc.bigInt({ min: 0n, max: 0x10000n }), fc.constant(BIG - 0x20n), fc.bigInt({ min: 0n, max: BIG })),
  init: fc.dictionary(fc.constantFrom(...INIT_REGS), value64, { maxKeys: 4 }),
}).map((c) => {
  // Keep only the init entries the reference accepts for this config.
  const init: Record<string, bigint> = {};
  for (const [k, v] of Object.entries(c.init)) {
    try {
      new ReferenceModel({ ...c, init: { [k]: v } });
      init[k] = v;
    } catch {
      /* not writable at vEL2 for this guest */
    }
  }
  return { ...c, init };
});

/** A valid random trace: each eret/exit becomes whichever of the two is valid where it stands. */
export const traceArb: fc.Arbitrary<{ config: TraceConfig; ops: Op[] }> = fc
  .tuple(configArb, fc.array(opArb, { minLength: 1, maxLength: 40 }))
  .map(([config, raw]) => {
    const ref = new ReferenceModel(config);
    const ops: Op[] = [];
    for (const o of raw) {
      const op: Op = o.op === 'eret' || o.op === 'exit' ? { op: ref.el === 2 ? 'eret' : 'exit' } : o;
      ref.step(op);
      ops.push(op);
    }
    return { config, ops };
  });
