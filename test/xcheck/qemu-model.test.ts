/**
 * The model of QEMU's timer bookkeeping (src/xcheck/qemu-model.ts), without QEMU: with no
 * behaviour switched on it observes exactly what the reference does; each behaviour reproduces
 * the QEMU measurement of xcheck/NOTES.md it is named after.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MASK64 } from '../../models/arch/bits.js';
import type { Expectation, Op, TraceConfig } from '../../models/arch/vocabulary.js';
import { ReferenceModel } from '../../models/reference/reference.js';
import { traceArb } from '../../src/check/generate.js';
import { resolveOp } from '../../src/engine/abstract-ops.js';
import { QEMU_EXCLUDE, QEMU_OFFER, withinQemu } from '../../src/xcheck/crosscheck.js';
import { ALL_BEHAVIOURS, NO_BEHAVIOURS, QemuTimerModel, WFIT_SAFETY, type QemuBehaviours } from '../../src/xcheck/qemu-model.js';
import { cfg, mrs, msr, tick } from './helpers.js';

const only = (b: Partial<QemuBehaviours>): QemuBehaviours => ({ ...NO_BEHAVIOURS, ...b });
const run = (config: TraceConfig, ops: Op[], b: QemuBehaviours): Expectation[] => {
  const m = new QemuTimerModel(config, b);
  return ops.map((op) => m.step(op));
};
const refRun = (config: TraceConfig, ops: Op[]): Expectation[] => {
  const r = new ReferenceModel(config);
  return ops.map((op) => r.step(op));
};

describe('QemuTimerModel', () => {
  it('with no behaviour switched on observes exactly what the reference does (generated traces)', () => {
    // The cross-check's traces: the check's generator kept within what QEMU runs (no WFIT, no HCR_EL2, nothing absent).
    fc.assert(fc.property(traceArb({ maxOps: 40, offer: QEMU_OFFER, exclude: QEMU_EXCLUDE }).map(withinQemu), ({ config, gen }) => {
      const ref = new ReferenceModel(config);
      const m = new QemuTimerModel(config, NO_BEHAVIOURS);
      for (const g of gen) {
        const op = resolveOp(g, ref);
        if (!op) continue;
        expect(m.step(op)).toEqual(ref.step(op));
      }
    }), { numRuns: 3000, seed: 7 });
  });

  it('istatusLag: a CTL read at exactly the deadline count sees the old ISTATUS; one count later the new one', () => {
    const ops: Op[] = [msr('CNTHP_CVAL_EL2', 100n), msr('CNTHP_CTL_EL2', 1n), tick(100n), mrs('CNTHP_CTL_EL2'), tick(1n), mrs('CNTHP_CTL_EL2')];
    const lag = run(cfg({ guest: 'nvhe' }), ops, only({ istatusLag: true }));
    expect([lag[3]!.value, lag[5]!.value]).toEqual([1n, 5n]);
    expect(lag[2]!.irq).toBe(0);
    expect(lag[4]!.irq).toBe(1);
    const arch = refRun(cfg({ guest: 'nvhe' }), ops);
    expect([arch[3]!.value, arch[5]!.value]).toEqual([5n, 5n]);
  });

  it('istatusLag: a write that puts CVAL in the past is seen at once (the write recalculates)', () => {
    const ops: Op[] = [msr('CNTHP_CTL_EL2', 1n), msr('CNTHP_CVAL_EL2', 0n), mrs('CNTHP_CTL_EL2')];
    expect(run(cfg({ guest: 'nvhe', count: 50n }), ops, only({ istatusLag: true }))[2]!.value).toBe(5n);
  });

  it('offsetOverflow: the EL1 virtual timer with CNTVOFF_EL2 > count and CVAL + CNTVOFF_EL2 >= 2^64 never fires; a wfi sleeps to its limit', () => {
    const off = MASK64 - 0xfffffn;
    const config = cfg({ count: 3000n, init: { CNTVOFF_EL2: off } });
    const cval = (3000n - off + 100n) & MASK64;
    const ops: Op[] = [msr('CNTV_CTL_EL02', 1n), msr('CNTV_CVAL_EL02', cval), tick(2000n), mrs('CNTV_CTL_EL02')];
    expect(refRun(config, ops)[3]).toMatchObject({ value: 5n, irq: 8 });
    expect(run(config, ops, only({ offsetOverflow: true }))[3]).toMatchObject({ value: 1n, irq: 0 });
    const wfi: Op[] = [msr('CNTV_CTL_EL02', 1n), msr('CNTV_CVAL_EL02', cval), { op: 'wfi', limit: 5000n }];
    expect(refRun(config, wfi)[2]!.elapsed).toBe(100n);
    expect(run(config, wfi, only({ offsetOverflow: true }))[2]!.elapsed).toBe(5000n);
  });

  it('ecvFlip: setting CNTHCTL_EL2.ECV leaves the EL1 physical timer as it was until the next timer write', () => {
    const config = cfg({ features: ['ecv'], count: 0x20000n, init: { CNTHCTL_EL2: 0xc00n, CNTPOFF_EL2: 0x10000n } });
    const ops: Op[] = [msr('CNTP_CVAL_EL02', 0x18000n), msr('CNTP_CTL_EL02', 1n), msr('CNTKCTL_EL1', 0x1c00n), mrs('CNTP_CTL_EL02'), msr('CNTP_CVAL_EL02', 0x18000n), mrs('CNTP_CTL_EL02')];
    expect(refRun(config, ops).map((e) => e.value)).toEqual([undefined, undefined, undefined, 1n, undefined, 1n]);
    expect(run(config, ops, only({ ecvFlip: true })).map((e) => e.value)).toEqual([undefined, undefined, undefined, 5n, undefined, 1n]);
  });

  it('hasEcv: in a trace without "ecv", CNTHCTL_EL2.EL1TVT traps vEL1 CNTV_CVAL_EL0 and CNTPOFF_EL2 at vEL2 is UNDEFINED', () => {
    const config = cfg({ init: { CNTHCTL_EL2: 0x2c03n } });
    const ops: Op[] = [mrs('CNTPOFF_EL2'), { op: 'eret' }, msr('CNTV_CVAL_EL0', 5n)];
    expect(refRun(config, ops).map((e) => e.fault)).toEqual(['undefined', undefined, undefined]);
    expect(run(config, ops, only({ hasEcv: true })).map((e) => e.fault)).toEqual(['undefined', undefined, 'trap']);
    expect(run(cfg({ features: ['ecv'] }), [mrs('CNTPOFF_EL2')], ALL_BEHAVIOURS)[0]).toMatchObject({ value: 0n });
  });

  it('wfitOverflow: a WFIT whose deadline + CNTVOFF_EL2 overflows 64 bits sleeps to the safety limit; the reference wakes at the deadline', () => {
    // nvhe at vEL2: CNTVCT_EL0 = count - CNTVOFF_EL2 = count + 2^20 (mod 2^64).
    const off = MASK64 - 0xfffffn;
    const config = cfg({ guest: 'nvhe', features: ['wfxt'], count: 0x1000n, init: { CNTVOFF_EL2: off } });
    const ops: Op[] = [{ op: 'wfit', deadline: 0x1000n + 0x100000n + 500n }];
    expect(refRun(config, ops)[0]!.elapsed).toBe(500n);
    expect(run(config, ops, NO_BEHAVIOURS)[0]!.elapsed).toBe(500n);
    expect(run(config, ops, only({ wfitOverflow: true }))[0]!.elapsed).toBe(WFIT_SAFETY);
    // No overflow (CNTVOFF_EL2 below the count): the deadline holds.
    expect(run(cfg({ guest: 'nvhe', features: ['wfxt'], count: 0x1000n, init: { CNTVOFF_EL2: 0x100n } }), [{ op: 'wfit', deadline: 0x1000n - 0x100n + 500n }], ALL_BEHAVIOURS)[0]!.elapsed).toBe(500n);
    // A deadline already passed returns at once, overflow or not.
    expect(run(config, [{ op: 'wfit', deadline: 5n }], ALL_BEHAVIOURS)[0]!.elapsed).toBe(0n);
  });
});
