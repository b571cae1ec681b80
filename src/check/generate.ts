/**
 * Generated guest behaviour. fast-check generates *abstract* ops whose values may be relative to
 * the current count ("CVAL = now - offset + 2"); they are resolved against the reference as the
 * trace runs, so every generated trace is valid at each step (eret only at vEL2, exit only at
 * vEL1: others are dropped) and shrinking can remove any op without making the trace invalid.
 */
import fc from 'fast-check';
import { MASK64, u64 } from '../bits.js';
import { REGISTERS, REGISTER_BY_NAME, type RegisterRow } from '../../models/registers.js';
import type { ReferenceModel } from '../../models/reference/reference.js';
import type { Feature, GuestMode, Op, TraceConfig } from '../trace/types.js';

export type ValueSpec =
  | { readonly k: 'abs'; readonly v: bigint }
  /** Relative to the count the accessed timer compares against (count - its offset); for offsets, to the count. */
  | { readonly k: 'now'; readonly d: bigint };

export type GenOp =
  /** `alias`: at vEL1, use the nested guest's own name for the same timer view (CNTV_CTL_EL02 -> CNTV_CTL_EL0). */
  | { readonly k: 'msr'; readonly reg: string; readonly val: ValueSpec; readonly alias?: boolean }
  | { readonly k: 'mrs'; readonly reg: string; readonly alias?: boolean }
  | { readonly k: 'tick'; readonly by: bigint }
  | { readonly k: 'preempt'; readonly by: bigint }
  | { readonly k: 'wfi'; readonly limit: bigint }
  | { readonly k: 'eret' }
  | { readonly k: 'exit' };

export interface GenOptions {
  /** Pin the guest mode; default: both. */
  readonly guest?: GuestMode;
  /** Pin FEAT_ECV of the virtual CPU; default: both. */
  readonly ecv?: boolean;
  /** Longest generated trace (before dropping invalid ops). Default 40. */
  readonly maxOps: number;
}

type RegClass = 'ctl' | 'cval' | 'tval' | 'offset' | 'cnthctl' | 'cntkctl' | 'counter';
const regClass = (r: RegisterRow): RegClass =>
  /_CTL_/.test(r.name) ? 'ctl' : /_CVAL_/.test(r.name) ? 'cval' : /_TVAL_/.test(r.name) ? 'tval'
    : /OFF_EL2$/.test(r.name) ? 'offset' : r.name === 'CNTHCTL_EL2' ? 'cnthctl' : r.name === 'CNTKCTL_EL1' ? 'cntkctl' : 'counter';

const abs = (v: bigint): ValueSpec => ({ k: 'abs', v });
const now = (d: bigint): ValueSpec => ({ k: 'now', d });
const u64Arb = fc.bigInt({ min: 0n, max: MASK64 });
const u32Arb = fc.bigInt({ min: 0n, max: 0xffffffffn });

const VALUE_ARBS: Readonly<Record<RegClass, fc.Arbitrary<ValueSpec>>> = {
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
  counter: fc.constantFrom(0n, 1n).map(abs),
};

/** Names with weights: the timer views the guest hypervisor uses most, more often. */
const REG_ARB: fc.Arbitrary<RegisterRow> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...REGISTERS.filter((r) => /^CNT[PV]_(CTL|CVAL|TVAL)_EL0[2]?$/.test(r.name))) },
  { weight: 2, arbitrary: fc.constantFrom(...REGISTERS.filter((r) => /^CNTH[PV]_/.test(r.name))) },
  { weight: 2, arbitrary: fc.constantFrom(...REGISTERS.filter((r) => /OFF_EL2$|CTL_EL[12]$|CNT[PV]CT/.test(r.name))) },
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
const FOCUS_FAMILIES = [
  'CNTV_(CTL|CVAL|TVAL)_EL02$|CNTVOFF_EL2', 'CNTP_(CTL|CVAL|TVAL)_EL02$|CNTPOFF_EL2|CNTHCTL_EL2|CNTKCTL_EL1',
  'CNTV_(CTL|CVAL|TVAL)_EL0$|CNTVOFF_EL2', 'CNTP_(CTL|CVAL|TVAL)_EL0$|CNTPOFF_EL2|CNTHCTL_EL2|CNTKCTL_EL1', 'CNTHV_', 'CNTHP_',
];

/** Mostly use the nested guest's alias at vEL1; sometimes keep the name, to reach the UNDEFINED cases. */
const aliasArb = fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) });

function opArb(reg: fc.Arbitrary<RegisterRow>): fc.Arbitrary<GenOp> {
  return fc.oneof(
    { weight: 10, arbitrary: fc.tuple(reg.chain((r) => VALUE_ARBS[regClass(r)].map((val) => [r, val] as const)), aliasArb).map(([[r, val], alias]): GenOp => ({ k: 'msr', reg: r.name, val, alias })) },
    { weight: 8, arbitrary: fc.tuple(reg, aliasArb).map(([r, alias]): GenOp => ({ k: 'mrs', reg: r.name, alias })) },
    { weight: 4, arbitrary: timeArb.map((by): GenOp => ({ k: 'tick', by })) },
    { weight: 1, arbitrary: timeArb.map((limit): GenOp => ({ k: 'wfi', limit })) },
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
  const cval = rows.find((r) => regClass(r) === 'cval');
  const ctl = rows.find((r) => regClass(r) === 'ctl');
  const tval = rows.find((r) => regClass(r) === 'tval');
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
  const ctl = rows.find((r) => regClass(r) === 'ctl');
  if (!ctl) return undefined;
  return fc.bigInt({ min: 0n, max: 8n }).map((by): GenOp[] => [{ k: 'tick', by }, { k: 'mrs', reg: ctl.name }]);
}

const FOCUSED_STEP_ARBS: readonly fc.Arbitrary<GenOp[]>[] = FOCUS_FAMILIES.map((f) => {
  const re = new RegExp(`^(${f})`);
  const rows = REGISTERS.filter((r) => re.test(r.name));
  const single = opArb(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...rows) }, { weight: 1, arbitrary: REG_ARB })).map((g) => [g]);
  const arm = armArb(rows);
  const poll = pollArb(rows);
  if (!arm || !poll) return single;
  return fc.oneof({ weight: 10, arbitrary: single }, { weight: 1, arbitrary: arm }, { weight: 1, arbitrary: poll });
});

export function configArb(o: GenOptions): fc.Arbitrary<TraceConfig> {
  const guest = o.guest ? fc.constant(o.guest) : fc.constantFrom<GuestMode>('vhe', 'nvhe');
  const features = o.ecv === undefined ? fc.constantFrom<Feature[]>([], ['ecv']) : fc.constant<Feature[]>(o.ecv ? ['ecv'] : []);
  const count = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(0n, 0x1000n) },
    { weight: 2, arbitrary: fc.bigInt({ min: MASK64 - 40n, max: MASK64 }) },
    { weight: 1, arbitrary: u64Arb },
  );
  const init = fc.oneof(
    { weight: 3, arbitrary: fc.constant({}) },
    { weight: 2, arbitrary: fc.constantFrom(0xc03n, 0x3n, 0x1c03n).map((v) => ({ CNTHCTL_EL2: v })) },
    { weight: 1, arbitrary: u64Arb.map((v) => ({ CNTVOFF_EL2: v })) },
  );
  return fc.record({ guest, features, count, init });
}

export function traceArb(o: GenOptions): fc.Arbitrary<[TraceConfig, GenOp[]]> {
  return fc.tuple(configArb(o), fc.nat({ max: FOCUSED_STEP_ARBS.length - 1 }))
    .chain(([config, focus]) => fc.array(FOCUSED_STEP_ARBS[focus]!, { maxLength: o.maxOps, size: 'medium' })
      .map((steps): [TraceConfig, GenOp[]] => [config, steps.flat().slice(0, o.maxOps)]));
}

/** The concrete op for an abstract one at the reference's current state, or undefined if it is not valid here. */
export function resolveOp(g: GenOp, ref: ReferenceModel): Op | undefined {
  switch (g.k) {
    case 'eret': return ref.el === 2 ? { op: 'eret' } : undefined;
    case 'exit': return ref.el === 1 ? { op: 'exit' } : undefined;
    case 'tick': return { op: 'tick', by: g.by };
    case 'preempt': return { op: 'preempt', by: g.by };
    case 'wfi': return { op: 'wfi', limit: g.limit };
    case 'mrs': return { op: 'mrs', reg: nameAt(g, ref) };
    case 'msr': {
      const reg = nameAt(g, ref);
      return { op: 'msr', reg, value: resolveValue(reg, g.val, ref) };
    }
  }
}

/**
 * The nested guest's name for a register that is UNDEFINED at EL1: the row serving the same VNCR
 * slot key under NV1=1 (the _EL0 name of an _EL02 alias). Derived from the register table.
 */
const EL1_ALIAS: ReadonlyMap<string, string> = new Map(
  REGISTERS.filter((r) => r.vel1.kind === 'undefined' && r.slot).flatMap((r) => {
    const a = REGISTERS.find((x) => x !== r && x.slot?.key === r.slot!.key && x.vel1.kind !== 'undefined');
    return a ? [[r.name, a.name] as const] : [];
  }),
);

function nameAt(g: { readonly reg: string; readonly alias?: boolean }, ref: ReferenceModel): string {
  return g.alias && ref.el === 1 ? (EL1_ALIAS.get(g.reg) ?? g.reg) : g.reg;
}

function resolveValue(reg: string, s: ValueSpec, ref: ReferenceModel): bigint {
  if (s.k === 'abs') return s.v;
  const row = REGISTER_BY_NAME.get(reg)!;
  const m = ref.el === 2 ? row.vel2[ref.config.guest] : row.vel1;
  const base = m.kind === 'timer' ? u64(ref.count - ref.timerOffset(m.timer)) : ref.count;
  return u64(base + s.d);
}
