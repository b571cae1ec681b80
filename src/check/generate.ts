/**
 * Generated guest behaviour. fast-check generates *abstract* ops (src/engine/abstract-ops.ts)
 * whose values may be relative to the current count; the runner resolves them against the
 * reference as the trace runs. Which values a register gets is its row's value class.
 */
import fc from 'fast-check';
import { MASK64 } from '../../models/arch/bits.js';
import { HCR_E2H, HCR_TGE, REGISTERS, REGISTER_BY_NAME, type RegisterRow, type ValueClass } from '../../models/arch/registers.js';
import { FEATURES, VOCABULARIES, VOCABULARY, type Feature, type GuestMode, type TraceConfig, type Vocabulary } from '../../models/arch/vocabulary.js';
import type { GenOp, ValueSpec } from '../engine/abstract-ops.js';

export type { GenOp, ValueSpec } from '../engine/abstract-ops.js';

export interface GenOptions {
  /** Pin the guest mode; default: both. */
  readonly guest?: GuestMode;
  /** Pin FEAT_ECV of the virtual CPU; default: both. */
  readonly ecv?: boolean;
  /** Longest generated trace (before dropping invalid ops). Default 40. */
  readonly maxOps: number;
  /** The virtual-CPU features the implementation can run (its declaration's host.vcpuFeatures). Default: every feature. */
  readonly offer?: readonly Feature[];
  /** Registers no generated op or initial value touches (CheckOptions.exclude). Default none. */
  readonly exclude?: readonly string[];
  /** The trace vocabulary of the implementation: nothing newer is generated. Default VOCABULARY. */
  readonly vocabulary?: Vocabulary;
}

/** Drop what the implementation cannot be asked: ops and initial values of excluded or newer registers, and newer ops. */
export function restrictTrace(o: Pick<GenOptions, 'exclude' | 'vocabulary'>, [config, ops]: [TraceConfig, GenOp[]]): [TraceConfig, GenOp[]] {
  const v = o.vocabulary ?? VOCABULARY;
  const exclude = o.exclude ?? [];
  if (!exclude.length && v === VOCABULARY) return [config, ops];
  const kinds = VOCABULARIES[v].ops;
  const banned = (reg: string): boolean => exclude.includes(reg) || (REGISTER_BY_NAME.get(reg)?.since ?? 1) > v;
  const init = Object.fromEntries(Object.entries(config.init).filter(([k]) => !banned(k)));
  return [{ ...config, init }, ops.filter((g) => kinds.includes(g.k === 'tickTo' ? 'tick' : g.k) && !((g.k === 'msr' || g.k === 'mrs') && banned(g.reg)))];
}


const abs = (v: bigint): ValueSpec => ({ k: 'abs', v });
const now = (d: bigint): ValueSpec => ({ k: 'now', d });
const u64Arb = fc.bigInt({ min: 0n, max: MASK64 });
const u32Arb = fc.bigInt({ min: 0n, max: 0xffffffffn });

const VALUE_ARBS: Readonly<Record<ValueClass, fc.Arbitrary<ValueSpec>>> = {
  // ENABLE/IMASK combinations, ISTATUS written, RES0 bits set.
  ctl: fc.constantFrom(1n, 0n, 3n, 2n, 5n, 4n, 7n, 1n | (1n << 40n), 0x8000000000000001n, 0x9n).map(abs),
  cval: fc.oneof(
    { weight: 6, arbitrary: fc.bigInt({ min: -3n, max: 3n }).map(now) },
    { weight: 2, arbitrary: fc.bigInt({ min: -(1n << 33n), max: 1n << 33n }).map(now) },
    { weight: 2, arbitrary: fc.constantFrom(0n, MASK64, 1n << 63n, (1n << 63n) - 1n, 1n).map(abs) },
    { weight: 1, arbitrary: u64Arb.map(abs) },
  ),
  tval: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(0n, 1n, 0xffffffffn, 0x7fffffffn, 0x80000000n, 0xfffffffen, 2n, 5n).map(abs) },
    { weight: 3, arbitrary: fc.bigInt({ min: 0n, max: 40n }).map(abs) },
    { weight: 1, arbitrary: fc.tuple(u32Arb, fc.bigInt({ min: 1n, max: 0xffffffffn })).map(([lo, hi]) => abs((hi << 32n) | lo)) },
    { weight: 1, arbitrary: u32Arb.map(abs) },
  ),
  // Offsets near the count make count - offset wrap; CNTVOFF larger than the count.
  offset: fc.oneof(
    { weight: 3, arbitrary: fc.bigInt({ min: -4n, max: 4n }).map(now) },
    { weight: 2, arbitrary: fc.constantFrom(0n, 0x10n, 1n << 63n, MASK64).map(abs) },
    { weight: 1, arbitrary: u64Arb.map(abs) },
  ),
  // Trap bits for vEL1, both CNTHCTL_EL2 layouts: EL1PTEN|EL1PCTEN (E2H), EL1PCEN|EL1PCTEN (nVHE), ECV bits, RES0 bits.
  cnthctl: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(0xc00n, 0x3n, 0xc03n, 0x0n, 0x1c03n, 0x2c03n, 0x4c03n, 0x1003n, 0x2003n, 0x800n, 0x400n, 0x2n, 0x1n).map(abs) },
    { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 0x3ffffn }).map(abs) },
    { weight: 1, arbitrary: fc.constantFrom(0xf00n, 1n << 40n, 0xfffn).map(abs) },
  ),
  // CNTKCTL_EL1 at vEL2 with E2H=1 is CNTHCTL_EL2: its values too.
  cntkctl: fc.oneof(
    fc.constantFrom(0n, 0x3n, 0x300n, 1n << 17n, 1n << 20n, 0x1000n, 0x1c03n, 0xc03n).map(abs),
    fc.bigInt({ min: 0n, max: 0x3ffffn }).map(abs),
  ),
  // HCR_EL2: the guest hypervisor as its own host (TGE=1) and entering its guest (TGE=0), E2H as its mode has it or not, other bits.
  hcr: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom<[bigint, bigint]>([HCR_E2H | HCR_TGE, HCR_TGE], [HCR_E2H, 0n]).map(([vhe, nvhe]) => ({ k: 'guest', vhe, nvhe }) as const) },
    { weight: 2, arbitrary: fc.constantFrom(HCR_TGE, 0n, HCR_E2H | HCR_TGE, HCR_E2H, HCR_E2H | HCR_TGE | 1n, 1n << 31n).map(abs) },
    { weight: 1, arbitrary: u64Arb.map(abs) },
  ),
  counter: fc.constantFrom(0n, 1n).map(abs),
};

/** The values the generator writes to a register: its row's value class. */
export const valueArbFor = (r: Pick<RegisterRow, 'values'>): fc.Arbitrary<ValueSpec> => VALUE_ARBS[r.values];

const isEl1TimerView = (r: RegisterRow): boolean => r.family === 'CNTP' || r.family === 'CNTV';
const isEl2TimerView = (r: RegisterRow): boolean => r.family === 'CNTHP' || r.family === 'CNTHV';

/**
 * Names with weights: the timer views the guest hypervisor uses most, more often. The third group
 * is every register that is not a timer view, and (as the first build drew it) the EL2 timers' CTL.
 */
const REG_ARB: fc.Arbitrary<RegisterRow> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...REGISTERS.filter(isEl1TimerView)) },
  { weight: 2, arbitrary: fc.constantFrom(...REGISTERS.filter(isEl2TimerView)) },
  { weight: 2, arbitrary: fc.constantFrom(...REGISTERS.filter((r) => r.class !== 'timer-view' || (isEl2TimerView(r) && r.values === 'ctl'))) },
);

// Mostly a few counts, so that a tick lands exactly on a deadline set a few counts ahead.
const timeArb = fc.oneof(
  { weight: 6, arbitrary: fc.bigInt({ min: 0n, max: 4n }) },
  { weight: 3, arbitrary: fc.bigInt({ min: 5n, max: 20n }) },
  { weight: 2, arbitrary: fc.bigInt({ min: 21n, max: 1n << 24n }) },
  { weight: 1, arbitrary: fc.constantFrom(1n << 32n, 1n << 63n, MASK64) },
);

/**
 * Each trace has a focus: one timer's views under one name family (for example CNTV_*_EL02).
 * Most accesses go to it, so that a write, a tick and a read of the same comparator meet in
 * one short trace; the rest are drawn from every register.
 */
interface Focus {
  /** The timer family of the views. */
  readonly family: string;
  /** The `_EL02` aliases (true), the `_EL0` names (false), or whatever the family has (undefined). */
  readonly alias02?: boolean;
  /** Other registers that change the family's behaviour: its offset, and the controls of CNTPOFF. */
  readonly with: readonly string[];
}
const CNTP_WITH = ['CNTPOFF_EL2', 'CNTHCTL_EL2', 'CNTKCTL_EL1', 'HCR_EL2'];
const FOCUS_FAMILIES: readonly Focus[] = [
  { family: 'CNTV', alias02: true, with: ['CNTVOFF_EL2'] }, { family: 'CNTP', alias02: true, with: CNTP_WITH },
  { family: 'CNTV', alias02: false, with: ['CNTVOFF_EL2'] }, { family: 'CNTP', alias02: false, with: CNTP_WITH },
  { family: 'CNTHV', with: [] }, { family: 'CNTHP', with: [] },
];
const inFocus = (f: Focus) => (r: RegisterRow): boolean =>
  (r.family === f.family && (f.alias02 === undefined || !!r.alias02 === f.alias02)) || f.with.includes(r.name);

/** Mostly use the nested guest's alias at vEL1; sometimes keep the name, to reach the UNDEFINED cases. */
const aliasArb = fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) });

function opArb(reg: fc.Arbitrary<RegisterRow>): fc.Arbitrary<GenOp> {
  return fc.oneof(
    { weight: 10, arbitrary: fc.tuple(reg.chain((r) => valueArbFor(r).map((val) => [r, val] as const)), aliasArb).map(([[r, val], alias]): GenOp => ({ k: 'msr', reg: r.name, val, alias })) },
    { weight: 8, arbitrary: fc.tuple(reg, aliasArb).map(([r, alias]): GenOp => ({ k: 'mrs', reg: r.name, alias })) },
    { weight: 4, arbitrary: timeArb.map((by): GenOp => ({ k: 'tick', by })) },
    { weight: 1, arbitrary: timeArb.map((limit): GenOp => ({ k: 'wfi', limit })) },
    { weight: 1, arbitrary: fc.oneof(timeArb, fc.bigInt({ min: -3n, max: -1n })).map((d): GenOp => ({ k: 'wfit', deadline: now(d) })) },
    { weight: 1, arbitrary: timeArb.map((by): GenOp => ({ k: 'preempt', by })) },
    { weight: 2, arbitrary: fc.constant<GenOp>({ k: 'eret' }) },
    { weight: 2, arbitrary: fc.constant<GenOp>({ k: 'exit' }) },
  );
}

/** Ops over every register, without a focus. */
export const genOpArb: fc.Arbitrary<GenOp> = opArb(REG_ARB);

/**
 * "Arm the timer": CVAL a few counts from now, then CTL = ENABLE, as one abstract step, so that
 * timers are often enabled and left to fire across ticks, wfi, preempt, eret and exit. It is
 * flattened into its two writes before running; shrinking treats it as one step, and the greedy
 * pass over concrete ops can still drop either write.
 */
function armArb(rows: readonly RegisterRow[]): fc.Arbitrary<GenOp[]> | undefined {
  const cval = rows.find((r) => r.values === 'cval');
  const ctl = rows.find((r) => r.values === 'ctl');
  const tval = rows.find((r) => r.values === 'tval');
  if (!cval || !ctl) return undefined;
  // Often followed by what hypervisors do next: read back the time left (TVAL), or be preempted.
  const after: fc.Arbitrary<GenOp[]> = fc.constantFrom<GenOp[]>(
    [], ...(tval ? [[{ k: 'mrs', reg: tval.name } as GenOp]] : []), [{ k: 'preempt', by: 0n }],
  );
  // Enabled, and sometimes masked (ISTATUS still counts, the line does not).
  const enable = fc.constantFrom(1n, 1n, 3n);
  return fc.tuple(fc.bigInt({ min: -2n, max: 6n }), enable, after).map(([d, ctlValue, tail]): GenOp[] => [
    { k: 'msr', reg: cval.name, val: now(d) },
    { k: 'msr', reg: ctl.name, val: abs(ctlValue) },
    ...tail,
  ]);
}

/** "Poll the timer": let a few counts pass, then read CTL (ISTATUS), as a guest waiting for expiry does. */
function pollArb(rows: readonly RegisterRow[]): fc.Arbitrary<GenOp[]> | undefined {
  const ctl = rows.find((r) => r.values === 'ctl');
  if (!ctl) return undefined;
  return fc.bigInt({ min: 0n, max: 8n }).map((by): GenOp[] => [{ k: 'tick', by }, { k: 'mrs', reg: ctl.name }]);
}

/**
 * "Reconfigure": a write to one of the focus family's offset or control registers (its CNTVOFF or
 * CNTPOFF, CNTHCTL_EL2, CNTKCTL_EL1), as a hypervisor sets up a context before arming a timer and
 * changes it while the timer runs.
 */
const CONTEXT_ARBS: readonly (fc.Arbitrary<GenOp> | undefined)[] = FOCUS_FAMILIES.map((f) => {
  const rows = REGISTERS.filter(inFocus(f)).filter((r) => r.class === 'offset' || r.class === 'control');
  return rows.length ? fc.constantFrom(...rows).chain((r) => valueArbFor(r).map((val): GenOp => ({ k: 'msr', reg: r.name, val }))) : undefined;
});

const FOCUSED_STEP_ARBS: readonly fc.Arbitrary<GenOp[]>[] = FOCUS_FAMILIES.map((f, fi) => {
  const rows = REGISTERS.filter(inFocus(f));
  const single = opArb(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...rows) }, { weight: 1, arbitrary: REG_ARB })).map((g) => [g]);
  const arm = armArb(rows);
  const poll = pollArb(rows);
  const context = CONTEXT_ARBS[fi];
  if (!arm || !poll) return single;
  return fc.oneof(
    { weight: 10, arbitrary: single }, { weight: 1, arbitrary: arm }, { weight: 1, arbitrary: poll },
    ...(context ? [{ weight: 1, arbitrary: context.map((g) => [g]) }] : []),
  );
});

/** The virtual CPU's features (and the implied ones it lacks), among those the implementation offers. */
function cpuArb(o: GenOptions, guest: GuestMode): fc.Arbitrary<Pick<TraceConfig, 'features' | 'absent'>> {
  const v = VOCABULARIES[o.vocabulary ?? VOCABULARY];
  const offer = (o.offer ?? FEATURES).filter((f) => v.features.includes(f));
  const ecvChoices: ('none' | 'ecv' | 'ecv-no-poff')[] = !offer.includes('ecv') || o.ecv === false ? ['none']
    // `--ecv` pins FEAT_ECV as nvconform-trace/1 always meant it, with FEAT_ECV_POFF where the host offers it.
    : o.ecv === true ? (offer.includes('ecv-poff') ? ['ecv'] : ['ecv-no-poff'])
    : !v.absent ? ['none', 'ecv'] : offer.includes('ecv-poff') ? ['none', 'none', 'ecv', 'ecv', 'ecv-no-poff'] : ['none', 'ecv-no-poff'];
  // A non-VHE guest hypervisor's vCPU sometimes lacks FEAT_VHE, as KVM's E2H=0 vCPUs do.
  const noVhe = guest === 'nvhe' && v.absent ? fc.constantFrom(false, false, false, true) : fc.constant(false);
  return fc.tuple(fc.constantFrom(...ecvChoices), offer.includes('wfxt') ? fc.boolean() : fc.constant(false), noVhe).map(([ecv, wfxt, nv]) => {
    const features: Feature[] = [...(ecv === 'none' ? [] : ['ecv' as const]), ...(wfxt ? ['wfxt' as const] : [])];
    const absent: Feature[] = [...(nv ? ['vhe' as const] : []), ...(ecv === 'ecv-no-poff' ? ['ecv-poff' as const] : [])];
    return absent.length ? { features, absent } : { features };
  });
}

export function configArb(o: GenOptions): fc.Arbitrary<TraceConfig> {
  const guest = o.guest ? fc.constant(o.guest) : fc.constantFrom<GuestMode>('vhe', 'nvhe');
  const count = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(0n, 0x1000n) },
    { weight: 2, arbitrary: fc.bigInt({ min: MASK64 - 40n, max: MASK64 }) },
    { weight: 1, arbitrary: u64Arb },
  );
  const init = fc.oneof(
    { weight: 3, arbitrary: fc.constant({}) },
    { weight: 2, arbitrary: fc.constantFrom(0xc03n, 0x3n, 0x1c03n).map((v) => ({ CNTHCTL_EL2: v })) },
    { weight: 1, arbitrary: u64Arb.map((v) => ({ CNTVOFF_EL2: v })) },
    { weight: 1, arbitrary: fc.constant({ HCR_EL2: HCR_TGE }) },
  );
  return guest.chain((g) => fc.tuple(cpuArb(o, g), count, init).map(([cpu, c, i]): TraceConfig => ({ guest: g, ...cpu, count: c, init: i })));
}

export function traceArb(o: GenOptions): fc.Arbitrary<[TraceConfig, GenOp[]]> {
  return fc.tuple(configArb(o), fc.nat({ max: FOCUSED_STEP_ARBS.length - 1 }))
    .chain(([config, focus]) => {
      const context = CONTEXT_ARBS[focus];
      // Half the traces set up their context first (0-2 writes), as a hypervisor does before arming a timer.
      const prefix = context ? fc.oneof(fc.constant<GenOp[]>([]), fc.array(context, { minLength: 1, maxLength: 2 })) : fc.constant<GenOp[]>([]);
      return fc.tuple(prefix, fc.array(FOCUSED_STEP_ARBS[focus]!, { maxLength: o.maxOps, size: 'medium' }))
        .map(([pre, steps]): [TraceConfig, GenOp[]] => restrictTrace(o, [config, [...pre, ...steps.flat()].slice(0, o.maxOps)]));
    });
}
