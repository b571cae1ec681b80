/**
 * The tests' arbitraries: concrete ops, configs and traces, independent of the checker's own
 * generator (src/check/generate.ts), so that a test can find what the generator misses.
 */
import fc from 'fast-check';
import { REGISTER_BY_NAME, REGISTER_NAMES } from '../../models/arch/registers.js';
import type { Expectation, Feature, GuestMode, Op, Trace, TraceConfig } from '../../models/arch/vocabulary.js';
import { ReferenceModel } from '../../models/reference/reference.js';
import { MASK } from './ops.js';

/** 64-bit values with the edges that matter: sign and 32-bit boundaries, the top of the range. */
export const EDGES = [0n, 1n, 2n, 0x7fff_ffffn, 0x8000_0000n, 0xffff_ffffn, 0x1_0000_0000n, 0x7fff_ffff_ffff_ffffn,
  0x8000_0000_0000_0000n, MASK - 1n, MASK];
export const u64Arb = fc.oneof(fc.bigInt({ min: 0n, max: MASK }), fc.constantFrom(...EDGES));
/** Small values near a deadline, and any. */
export const value64Arb = fc.oneof(
  fc.bigInt({ min: 0n, max: 0x40n }),
  fc.bigInt({ min: 0n, max: 0xffffn }),
  fc.constantFrom(0xffffffffn, 0xfffffff0n, 0x80000000n, 0x7fffffffn, MASK, MASK - 0x10n, 1n << 63n, 0x1_0000_0010n),
  fc.bigInt({ min: 0n, max: MASK }),
);
/** Time steps: mostly small, sometimes any. */
export const smallOrBigArb = fc.oneof(fc.bigInt({ min: 0n, max: 0x1_0000_0000n }), u64Arb);
/** CNTHCTL_EL2 values that open or close the nested guest's traps in both layouts, plus ECV bits. */
export const cnthctlArb = fc.oneof(
  fc.constantFrom(0n, 0x3n, 0xc00n, 0xc03n, 0x1000n, 0x1c03n, 0x2000n, 0x4000n, 0x6c03n, 0x7c03n, 0x3fc03n),
  fc.bigInt({ min: 0n, max: 0x3ffffn }),
);

export interface OpArbOptions {
  /** The trace vocabulary: 1 leaves out what version 2 added (wfit, HCR_EL2, CNTKCTL_EL12, the SS counters). Default 2. */
  readonly vocabulary?: 1 | 2;
  /** Values written by msr. Default value64Arb. */
  readonly values?: fc.Arbitrary<bigint>;
  /** Counts for tick/preempt/wfi. Default smallOrBigArb. */
  readonly times?: fc.Arbitrary<bigint>;
}

/** Any op of the trace format (not necessarily valid where it stands: eret/exit anywhere). */
export function opArb(o: OpArbOptions = {}): fc.Arbitrary<Op> {
  const values = o.values ?? value64Arb, times = o.times ?? smallOrBigArb;
  const v = o.vocabulary ?? 2;
  const names = REGISTER_NAMES.filter((n) => (REGISTER_BY_NAME.get(n)!.since ?? 1) <= v);
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant('msr' as const), reg: fc.constantFrom(...names), value: values }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('msr' as const), reg: fc.constantFrom('CNTHCTL_EL2', 'CNTKCTL_EL1'), value: cnthctlArb }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('msr' as const), reg: fc.constantFrom('CNTP_CTL_EL0', 'CNTV_CTL_EL0', 'CNTP_CTL_EL02', 'CNTV_CTL_EL02', 'CNTHP_CTL_EL2', 'CNTHV_CTL_EL2'), value: fc.bigInt({ min: 0n, max: 7n }) }) },
    { weight: 4, arbitrary: fc.record({ op: fc.constant('mrs' as const), reg: fc.constantFrom(...names) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constantFrom('tick' as const, 'preempt' as const), by: times }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('wfi' as const), limit: times }) },
    ...(v >= 2 ? [{ weight: 1, arbitrary: fc.record({ op: fc.constant('wfit' as const), deadline: times }) }] : []),
    { weight: 2, arbitrary: fc.constantFrom<Op>({ op: 'eret' }, { op: 'exit' }) },
  );
}

const INIT_REGS = ['CNTVOFF_EL2', 'CNTPOFF_EL2', 'CNTHCTL_EL2', 'CNTKCTL_EL1', 'CNTHP_CVAL_EL2', 'CNTHV_CVAL_EL2', 'CNTHP_CTL_EL2', 'CNTHV_CTL_EL2', 'CNTP_CVAL_EL02', 'CNTV_CTL_EL02', 'CNTV_CVAL_EL0'];

/** A config the reference accepts: init entries that are not writable for the guest mode are dropped. */
/** The virtual CPU's features as configs name them: none, FEAT_ECV, FEAT_WFxT; without FEAT_ECV_POFF or (E2H=0) FEAT_VHE. */
const cpuArb = (guest: GuestMode, v: 1 | 2): fc.Arbitrary<Pick<TraceConfig, 'features' | 'absent'>> => fc.constantFrom<Pick<TraceConfig, 'features' | 'absent'>>(
  { features: [] }, { features: ['ecv'] },
  ...(v >= 2 ? [{ features: ['wfxt'] }, { features: ['ecv', 'wfxt'] }, { features: ['ecv'], absent: ['ecv-poff'] }] as Pick<TraceConfig, 'features' | 'absent'>[] : []),
  ...(v >= 2 && guest === 'nvhe' ? [{ features: [], absent: ['vhe'] } as Pick<TraceConfig, 'features' | 'absent'>] : []),
);

/** A config the reference accepts, in trace vocabulary `v`. */
export const validConfigArbOf = (v: 1 | 2): fc.Arbitrary<TraceConfig> => fc.constantFrom<GuestMode>('vhe', 'nvhe').chain((guest) => fc.record({
  guest: fc.constant(guest),
  cpu: cpuArb(guest, v),
  count: fc.oneof(fc.bigInt({ min: 0n, max: 0x10000n }), fc.constant(MASK - 0x20n), fc.bigInt({ min: 0n, max: MASK })),
  init: fc.dictionary(fc.constantFrom(...INIT_REGS), value64Arb, { maxKeys: 4 }),
})).map(({ cpu, ...c }) => {
  const base: TraceConfig = { ...c, ...cpu, init: {} };
  const init: Record<string, bigint> = {};
  for (const [k, v] of Object.entries(c.init)) {
    try {
      new ReferenceModel({ ...base, init: { [k]: v } });
      init[k] = v;
    } catch {
      /* not writable at vEL2 for this guest */
    }
  }
  return { ...base, init };
});
export const validConfigArb: fc.Arbitrary<TraceConfig> = validConfigArbOf(2);

/** Any config of the trace format's syntax (init may name registers the reference rejects). */
export const anyConfigArb: fc.Arbitrary<TraceConfig> = fc.record({
  guest: fc.constantFrom<GuestMode>('vhe', 'nvhe'),
  features: fc.constantFrom<Feature[]>([], ['ecv']),
  count: u64Arb,
  init: fc.dictionary(fc.constantFrom(...REGISTER_NAMES), u64Arb, { maxKeys: 4 }),
});

/** A valid random trace in trace vocabulary `v`: each eret/exit becomes whichever of the two is valid where it stands. */
export const validTraceArbOf = (v: 1 | 2): fc.Arbitrary<{ config: TraceConfig; ops: Op[] }> => fc
  .tuple(validConfigArbOf(v), fc.array(opArb({ vocabulary: v }), { minLength: 1, maxLength: 40 }))
  .map(([config, raw]) => {
    const ref = new ReferenceModel(config);
    const ops: Op[] = [];
    for (const o of raw) {
      // No eret while the guest hypervisor is its own host (HCR_EL2.TGE=1).
      if ((o.op === 'eret' || o.op === 'exit') && ref.el === 2 && ref.tge()) continue;
      const op: Op = o.op === 'eret' || o.op === 'exit' ? { op: ref.el === 2 ? 'eret' : 'exit' } : o;
      ref.step(op);
      ops.push(op);
    }
    return { config, ops };
  });
export const validTraceArb = validTraceArbOf(2);

/** Observations in any shape the format allows (for round trips). */
export const observationArb: fc.Arbitrary<Expectation> = fc
  .record({
    irq: fc.integer({ min: 0, max: 15 }),
    value: fc.option(u64Arb, { nil: undefined }),
    unknown: fc.option(u64Arb.filter((x) => x !== 0n), { nil: undefined }),
    fault: fc.option(fc.constantFrom('undefined' as const, 'trap' as const), { nil: undefined }),
    elapsed: fc.option(u64Arb, { nil: undefined }),
  })
  .map((o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as unknown as Expectation);

/** Traces in the format's syntax, valid or not, with or without observations (for parse/format round trips). */
export const anyTraceArb: fc.Arbitrary<Trace> = fc
  .record({ config: anyConfigArb, ops: fc.array(opArb({ values: u64Arb, times: u64Arb }), { maxLength: 25 }), withObs: fc.boolean() })
  .chain(({ config, ops, withObs }) =>
    withObs
      ? fc.array(observationArb, { minLength: ops.length, maxLength: ops.length }).map((observations) => ({ config, ops, observations }))
      : fc.constant({ config, ops }));
