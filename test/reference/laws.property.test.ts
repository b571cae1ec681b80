/**
 * Property tests of the CVAL/TVAL/CTL laws (facts §1.2, §1.3) on the reference model, over every
 * timer view reachable from vEL2 and vEL1 in both guest modes, with and without FEAT_ECV.
 * Expected values come from the independent helpers in util.ts.
 */
import fc from 'fast-check';
import { opArb as anyOpArb, validConfigArb } from '../support/arbitraries.js';
import { describe, expect, it } from 'vitest';
import { REGISTER_NAMES } from '../../models/arch/registers.js';
import { ReferenceModel } from '../../models/reference/reference.js';
import { InputError } from '../../models/arch/errors.js';
import { defaultConfig, type Expectation, type GuestMode, type Op, type TraceConfig } from '../../models/arch/vocabulary.js';
import { HP, HV, MASK, P, V, eret, lo32, mod64, mrs, rd, rdx, sx32, tick, wfi, wr } from './util.js';

const EDGES = [0n, 1n, 2n, 0x7fff_ffffn, 0x8000_0000n, 0xffff_ffffn, 0x1_0000_0000n, 0x7fff_ffff_ffff_ffffn,
  0x8000_0000_0000_0000n, MASK - 1n, MASK];
const u64 = fc.oneof(fc.bigInt({ min: 0n, max: MASK }), fc.constantFrom(...EDGES));
/** A compare value: an absolute u64, or near the timer's own count (the interesting region). */
const cvalSpec = fc.oneof(
  fc.record({ rel: fc.constant(false), v: u64 }),
  fc.record({ rel: fc.constant(true), v: fc.oneof(fc.bigInt({ min: -0x1_0000_0010n, max: 0x1_0000_0010n }), fc.constantFrom(-1n, 0n, 1n)) }),
);
const smallOrBig = fc.oneof(fc.bigInt({ min: 0n, max: 0x1_0000_0000n }), u64);

type Env = { guest: GuestMode; ecv: boolean; ecvBit: boolean; count: bigint; voff: bigint; poff: bigint };
const envArb: fc.Arbitrary<Env> = fc.record({
  guest: fc.constantFrom<GuestMode>('vhe', 'nvhe'),
  ecv: fc.boolean(),
  ecvBit: fc.boolean(),
  count: u64,
  voff: u64,
  poff: u64,
});

/** A timer as reached through one family of names at one EL. */
interface View {
  readonly label: string;
  readonly el: 1 | 2;
  readonly ctl: string;
  readonly cval: string;
  readonly tval: string;
  readonly bit: number;
  /** Offset the TVAL view is relative to. */
  readonly tvalOff: (e: Env) => bigint;
  /** Offset in the timer condition. */
  readonly condOff: (e: Env) => bigint;
}
const none = (): bigint => 0n;
const voff = (e: Env): bigint => e.voff;
const poffIf = (e: Env): bigint => (e.ecv && e.ecvBit ? e.poff : 0n);
const fam = (label: string, el: 1 | 2, p: string, s: string, bit: number, tvalOff: View['tvalOff'], condOff: View['condOff']): View =>
  ({ label, el, ctl: `${p}_CTL_${s}`, cval: `${p}_CVAL_${s}`, tval: `${p}_TVAL_${s}`, bit, tvalOff, condOff });

const VIEWS: Readonly<Record<GuestMode, readonly View[]>> = {
  vhe: [
    fam('vhe vEL2 CNTHP', 2, 'CNTHP', 'EL2', HP, none, none),
    fam('vhe vEL2 CNTHV', 2, 'CNTHV', 'EL2', HV, none, none),
    fam('vhe vEL2 CNTP_EL0->hptimer', 2, 'CNTP', 'EL0', HP, none, none),
    fam('vhe vEL2 CNTV_EL0->hvtimer', 2, 'CNTV', 'EL0', HV, none, none),
    fam('vhe vEL2 CNTP_EL02', 2, 'CNTP', 'EL02', P, none, poffIf),
    fam('vhe vEL2 CNTV_EL02', 2, 'CNTV', 'EL02', V, voff, voff),
    fam('vhe vEL1 CNTP', 1, 'CNTP', 'EL0', P, poffIf, poffIf),
    fam('vhe vEL1 CNTV', 1, 'CNTV', 'EL0', V, voff, voff),
  ],
  nvhe: [
    fam('nvhe vEL2 CNTHP', 2, 'CNTHP', 'EL2', HP, none, none),
    fam('nvhe vEL2 CNTHV', 2, 'CNTHV', 'EL2', HV, none, none),
    fam('nvhe vEL2 CNTP_EL0', 2, 'CNTP', 'EL0', P, none, poffIf),
    fam('nvhe vEL2 CNTV_EL0', 2, 'CNTV', 'EL0', V, voff, voff),
    fam('nvhe vEL1 CNTP', 1, 'CNTP', 'EL0', P, poffIf, poffIf),
    fam('nvhe vEL1 CNTV', 1, 'CNTV', 'EL0', V, voff, voff),
  ],
};

/** An environment plus one view valid for its guest mode. */
const caseArb = envArb.chain((env) => fc.constantFrom(...VIEWS[env.guest]).map((view) => ({ env, view })));

/** A fresh model for the environment, at the view's EL, with the vEL1 physical timer/counter accessible. */
function setup(env: Env, view: View): ReferenceModel {
  const open = env.guest === 'vhe' ? 0xc00n : 0x3n;
  const init: Record<string, bigint> = { CNTVOFF_EL2: env.voff, CNTHCTL_EL2: open | (env.ecvBit ? 1n << 12n : 0n) };
  if (env.ecv) init.CNTPOFF_EL2 = env.poff;
  const m = new ReferenceModel(defaultConfig({ guest: env.guest, features: env.ecv ? ['ecv'] : [], count: env.count, init }));
  if (view.el === 1) m.step(eret);
  expect(m.el).toBe(view.el);
  return m;
}

const cvalOf = (env: Env, view: View, spec: { rel: boolean; v: bigint }): bigint =>
  spec.rel ? mod64(env.count - view.condOff(env) + spec.v) : spec.v;

describe('CVAL/TVAL laws (property)', () => {
  it('a TVAL write of v then a CVAL read gives (count - offset) + SignExtend(v<31:0>) mod 2^64', () => {
    fc.assert(fc.property(caseArb, u64, ({ env, view }, v) => {
      const m = setup(env, view);
      wr(m, view.tval, v);
      expect(rd(m, view.cval)).toBe(mod64(env.count - view.tvalOff(env) + sx32(v)));
    }));
  });

  it('a TVAL read after a CVAL write gives low32(CVAL - (count - offset)) when enabled, with no UNKNOWN bits', () => {
    fc.assert(fc.property(caseArb, cvalSpec, ({ env, view }, spec) => {
      const m = setup(env, view);
      const c = cvalOf(env, view, spec);
      wr(m, view.cval, c);
      wr(m, view.ctl, 1n);
      const e = rdx(m, view.tval);
      expect(e.value).toBe(lo32(c - (env.count - view.tvalOff(env))));
      expect(e.unknown ?? 0n).toBe(0n);
    }));
  });

  it('a TVAL read while ENABLE=0 is entirely UNKNOWN', () => {
    fc.assert(fc.property(caseArb, cvalSpec, fc.constantFrom(0n, 2n), ({ env, view }, spec, ctl) => {
      const m = setup(env, view);
      wr(m, view.cval, cvalOf(env, view, spec));
      wr(m, view.ctl, ctl);
      expect(rdx(m, view.tval).unknown).toBe(MASK);
    }));
  });

  it('a TVAL write of v then a TVAL read (enabled) gives low32(v)', () => {
    fc.assert(fc.property(caseArb, u64, ({ env, view }, v) => {
      const m = setup(env, view);
      wr(m, view.ctl, 1n);
      wr(m, view.tval, v);
      expect(rd(m, view.tval)).toBe(lo32(v));
    }));
  });

  it('after tick(d) with no writes, TVAL decreases by d mod 2^32 and CVAL is unchanged', () => {
    fc.assert(fc.property(caseArb, cvalSpec, smallOrBig, ({ env, view }, spec, d) => {
      const m = setup(env, view);
      const c = cvalOf(env, view, spec);
      wr(m, view.cval, c);
      wr(m, view.ctl, 1n);
      const t0 = rd(m, view.tval);
      m.step(tick(d));
      expect(rd(m, view.tval)).toBe(lo32(t0 - d));
      expect(rd(m, view.cval)).toBe(c);
    }));
  });

  it('ISTATUS (ENABLE=1) and the line equal the unsigned compare (count - offset) mod 2^64 >= CVAL', () => {
    fc.assert(fc.property(caseArb, cvalSpec, fc.bigInt({ min: 0n, max: 7n }), ({ env, view }, spec, ctl) => {
      const m = setup(env, view);
      const c = cvalOf(env, view, spec);
      wr(m, view.cval, c);
      const e = wr(m, view.ctl, ctl);
      const met = mod64(env.count - view.condOff(env)) >= c;
      const enabled = (ctl & 1n) === 1n;
      const masked = (ctl & 2n) === 2n;
      expect(e.irq).toBe(enabled && !masked && met ? view.bit : 0);
      const r = rdx(m, view.ctl);
      expect(r.value! & 3n).toBe(ctl & 3n);
      if (enabled) {
        expect((r.value! >> 2n) & 1n).toBe(met ? 1n : 0n);
        expect(r.unknown ?? 0n).toBe(0n);
      } else {
        expect(r.unknown).toBe(4n);
      }
    }));
  });

  it('wfi with one armed timer elapses min(limit, CVAL - (count - offset)) (0 if already met)', () => {
    fc.assert(fc.property(caseArb, cvalSpec, smallOrBig, fc.constantFrom(1n, 3n), ({ env, view }, spec, limit, ctl) => {
      const m = setup(env, view);
      const c = cvalOf(env, view, spec);
      wr(m, view.cval, c);
      wr(m, view.ctl, ctl);
      const now = mod64(env.count - view.condOff(env));
      const due = now >= c ? 0n : c - now;
      const expected = ctl === 1n && due < limit ? due : limit;
      const e = m.step(wfi(limit));
      expect(e.elapsed).toBe(expected);
      if (ctl === 1n && due <= limit) expect(e.irq).toBe(view.bit);
    }));
  });

  it('vhe: the EL1 virtual timer\'s TVAL reads the same through CNTV_TVAL_EL02 at vEL2 and CNTV_TVAL_EL0 at vEL1', () => {
    fc.assert(fc.property(envArb, cvalSpec, ({ ecv, ecvBit, count, voff, poff }, spec) => {
      const env: Env = { guest: 'vhe', ecv, ecvBit, count, voff, poff };
      const view = VIEWS.vhe.find((v) => v.label === 'vhe vEL2 CNTV_EL02')!;
      const m = setup(env, view);
      wr(m, 'CNTV_CVAL_EL02', cvalOf(env, view, spec));
      wr(m, 'CNTV_CTL_EL02', 1n);
      const atEl2 = rd(m, 'CNTV_TVAL_EL02');
      m.step(eret);
      expect(rd(m, 'CNTV_TVAL_EL0')).toBe(atEl2);
    }));
  });

  it('vhe: the EL1 physical timer\'s TVAL at vEL1 exceeds its CNTP_TVAL_EL02 view by CNTPOFF (mod 2^32) exactly when ECV applies', () => {
    fc.assert(fc.property(envArb, cvalSpec, ({ ecv, ecvBit, count, voff, poff }, spec) => {
      const env: Env = { guest: 'vhe', ecv, ecvBit, count, voff, poff };
      const view = VIEWS.vhe.find((v) => v.label === 'vhe vEL2 CNTP_EL02')!;
      const m = setup(env, view);
      wr(m, 'CNTP_CVAL_EL02', cvalOf(env, view, spec));
      wr(m, 'CNTP_CTL_EL02', 1n);
      const atEl2 = rd(m, 'CNTP_TVAL_EL02');
      m.step(eret);
      expect(rd(m, 'CNTP_TVAL_EL0')).toBe(lo32(atEl2 + poffIf(env)));
    }));
  });

  it('counters: CNTPCT/CNTVCT read (count - offset) mod 2^64 with the offset of the EL and guest mode', () => {
    fc.assert(fc.property(envArb, fc.constantFrom<1 | 2>(1, 2), (env, el) => {
      const m = setup(env, { ...VIEWS[env.guest][0]!, el });
      const vOff = el === 2 && env.guest === 'vhe' ? 0n : env.voff;
      const pOff = el === 2 ? 0n : poffIf(env);
      expect(rd(m, 'CNTVCT_EL0')).toBe(mod64(env.count - vOff));
      expect(rd(m, 'CNTPCT_EL0')).toBe(mod64(env.count - pOff));
    }));
  });
});

// ---- determinism ----
const opArb = anyOpArb({ values: u64, times: smallOrBig });
const configArb = validConfigArb;

type Outcome = Expectation | { error: string };
function runAll(config: TraceConfig, ops: readonly Op[]): Outcome[] {
  const m = new ReferenceModel(config);
  return ops.map((op) => {
    try {
      return m.step(op);
    } catch (e) {
      if (e instanceof InputError) return { error: e.message };
      throw e;
    }
  });
}

describe('determinism (property)', () => {
  it('the same trace gives the same expectations, op by op, and every observation is well formed', () => {
    fc.assert(fc.property(configArb, fc.array(opArb, { maxLength: 40 }), (config, ops) => {
      const a = runAll(config, ops);
      const b = runAll(config, ops);
      expect(b).toEqual(a);
      a.forEach((o, i) => {
        if ('error' in o) return;
        expect(o.irq).toBeGreaterThanOrEqual(0);
        expect(o.irq).toBeLessThanOrEqual(15);
        const op = ops[i]!;
        if (op.op === 'mrs' && o.fault === undefined) expect(typeof o.value).toBe('bigint');
        if (op.op !== 'mrs') expect(o.value).toBeUndefined();
        if (op.op === 'wfi') expect(o.elapsed! <= op.limit).toBe(true);
        else if (op.op === 'wfit') expect(o.fault === 'undefined' ? o.elapsed === undefined : typeof o.elapsed === 'bigint').toBe(true);
        else expect(o.elapsed).toBeUndefined();
        if (o.value !== undefined) expect(o.value >= 0n && o.value <= MASK).toBe(true);
        if (o.unknown !== undefined) expect(o.unknown > 0n && o.unknown <= MASK).toBe(true);
      });
    }));
  });

  it('interleaving pure reads does not change later observations', () => {
    fc.assert(fc.property(configArb, fc.array(opArb, { maxLength: 30 }), fc.constantFrom(...REGISTER_NAMES), (config, ops, reg) => {
      // mrs is side-effect free except for a trap (which moves the vCPU to vEL2); only interleave where it cannot trap.
      const plain = runAll(config, ops);
      const withReads: Op[] = ops.flatMap((op) => [op, mrs(reg)]);
      const mixed = runAll(config, withReads);
      fc.pre(mixed.every((o, i) => i % 2 === 0 || 'error' in o || o.fault !== 'trap'));
      expect(mixed.filter((_o, i) => i % 2 === 0)).toEqual(plain);
    }));
  });
});
