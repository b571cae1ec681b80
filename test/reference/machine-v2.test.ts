/**
 * The rules the wider machine added (issue 12), one per test, on the reference: HCR_EL2.TGE and
 * the timers, FEAT_ECV_POFF apart from FEAT_ECV, CNTKCTL_EL12, the self-synchronised counters,
 * WFIT, and a virtual CPU without FEAT_VHE. Each expected value is worked out here from the Arm ARM
 * (DDI 0487: CNTHCTL_EL2.ECV, CNTPOFF_EL2, HCR_EL2.{E2H,TGE}, CNTKCTL_EL12, CNTPCTSS_EL0,
 * CNTVCTSS_EL0, WFIT), never by the model's own arithmetic.
 */
import { describe, expect, it } from 'vitest';
import { InputError } from '../../models/arch/errors.js';
import type { Feature, GuestMode, Op } from '../../models/arch/vocabulary.js';
import { P, V, eret, mk, mrs, msr, rd, rdx, run, tick, wr } from './util.js';

const TGE = 1n << 27n;
const E2H = 1n << 34n;
const ECV = 1n << 12n;
const EL1TVCT = 1n << 14n;
/** CNTHCTL_EL2 with the EL1 physical timer and counter open, in each E2H layout. */
const OPEN: Record<GuestMode, bigint> = { vhe: 0xc00n, nvhe: 0x3n };
const wfit = (deadline: bigint): Op => ({ op: 'wfit', deadline });
const ecv: Feature[] = ['ecv'];

/** The EL1 physical timer armed at CVAL `cval` with CNTPOFF_EL2 = `poff` and ECV set, from vEL2. */
function armPtimer(guest: GuestMode, over: { count: bigint; poff: bigint; cval: bigint; hcr?: bigint }) {
  const m = mk({ guest, features: ecv, count: over.count, init: over.hcr !== undefined ? { HCR_EL2: over.hcr } : {} });
  wr(m, 'CNTHCTL_EL2', OPEN[guest] | ECV);
  wr(m, 'CNTPOFF_EL2', over.poff);
  // The EL1 physical timer's names at vEL2: CNTP_*_EL02 with E2H=1, CNTP_*_EL0 with E2H=0.
  const n = guest === 'vhe' ? '_EL02' : '_EL0';
  wr(m, `CNTP_CVAL${n}`, over.cval);
  wr(m, `CNTP_CTL${n}`, 1n);
  return m;
}

describe('HCR_EL2.TGE and the timers', () => {
  it('TGE and CNTPOFF: with {E2H, TGE} = {1, 1} CNTPOFF_EL2 is not applied to the EL1 physical timer; clearing TGE applies it', () => {
    // count 0x1000, CNTPOFF 0x800, CVAL 0x900: met without the offset (0x1000 >= 0x900), not with it (0x800 < 0x900).
    const m = armPtimer('vhe', { count: 0x1000n, poff: 0x800n, cval: 0x900n, hcr: TGE });
    expect(m.irqMask() & P).toBe(P);
    expect(m.poffInForce()).toBe(false);
    expect(wr(m, 'HCR_EL2', E2H).irq & P).toBe(0);
    expect(m.poffInForce()).toBe(true);
    // And back: setting TGE takes the offset away again.
    expect(wr(m, 'HCR_EL2', E2H | TGE).irq & P).toBe(P);
  });

  it('TGE and CNTHCTL_EL2.ECV: with TGE = 1 ECV behaves as 0 for an E2H=0 guest hypervisor too, though it reads back as written', () => {
    const m = armPtimer('nvhe', { count: 0x1000n, poff: 0x800n, cval: 0x900n, hcr: TGE });
    expect(m.irqMask() & P).toBe(P);
    expect(rd(m, 'CNTHCTL_EL2') & ECV).toBe(ECV);
    expect(wr(m, 'HCR_EL2', 0n).irq & P).toBe(0);
  });

  it('HCR_EL2.E2H of a VHE guest hypervisor is RES1: it reads 1, and written 0 it reads UNKNOWN (the mode does not change)', () => {
    const m = mk({ guest: 'vhe' });
    expect(rd(m, 'HCR_EL2')).toBe(E2H);
    wr(m, 'HCR_EL2', TGE);
    const e = rdx(m, 'HCR_EL2');
    expect(e.value! & TGE).toBe(TGE);
    expect(e.unknown! & E2H).toBe(E2H);
    // Still E2H=1: CNTV_CTL_EL02 is defined.
    expect(m.step(mrs('CNTV_CTL_EL02')).fault).toBeUndefined();
  });

  it('an initial HCR_EL2 keeps E2H set for a VHE guest hypervisor; E2H written 1 by an E2H=0 one reads UNKNOWN', () => {
    expect(rd(mk({ guest: 'vhe', init: { HCR_EL2: TGE } }), 'HCR_EL2')).toBe(E2H | TGE);
    const m = mk({ guest: 'nvhe' });
    wr(m, 'HCR_EL2', E2H);
    expect(rdx(m, 'HCR_EL2').unknown! & E2H).toBe(E2H);
  });

  it('eret while TGE = 1 is an input error: the guest hypervisor is its own host and runs no nested guest', () => {
    const m = mk({ guest: 'vhe', init: { HCR_EL2: TGE } });
    expect(() => m.step(eret)).toThrow(InputError);
  });

  it('HCR_EL2 is UNDEFINED at vEL1', () => {
    const m = mk({ guest: 'vhe' });
    run(m, eret);
    expect(m.step(mrs('HCR_EL2')).fault).toBe('undefined');
  });
});

describe('FEAT_ECV_POFF gating', () => {
  it('with FEAT_ECV but not FEAT_ECV_POFF, CNTPOFF_EL2 is UNDEFINED and CNTHCTL_EL2.ECV is RES0: set, it reads UNKNOWN and applies no offset', () => {
    const m = mk({ guest: 'vhe', features: ecv, absent: ['ecv-poff'], count: 0x1000n });
    expect(m.step(mrs('CNTPOFF_EL2')).fault).toBe('undefined');
    expect(m.step(msr('CNTPOFF_EL2', 0x800n)).fault).toBe('undefined');
    wr(m, 'CNTHCTL_EL2', OPEN.vhe | ECV);
    expect(rdx(m, 'CNTHCTL_EL2').unknown! & ECV).toBe(ECV);
    expect(m.poffInForce()).toBe(false);
    // FEAT_ECV's own controls stay: EL1TVCT is writable state.
    wr(m, 'CNTHCTL_EL2', OPEN.vhe | EL1TVCT);
    expect(rdx(m, 'CNTHCTL_EL2').unknown ?? 0n).toBe(0n);
  });

  it('naming ecv implies ecv-poff (what nvconform-trace/1 always meant); naming ecv-poff implies ecv', () => {
    expect(mk({ features: ['ecv'] }).has('ecv-poff')).toBe(true);
    const m = mk({ features: ['ecv-poff'] });
    expect(m.has('ecv')).toBe(true);
    expect(m.step(mrs('CNTPCTSS_EL0')).fault).toBeUndefined();
  });
});

describe('CNTKCTL_EL12', () => {
  it('at vEL2 with E2H=1 it is CNTKCTL_EL1: what it writes the nested guest reads as CNTKCTL_EL1 (at vEL2 CNTKCTL_EL1 is CNTHCTL_EL2)', () => {
    const m = mk({ guest: 'vhe' });
    wr(m, 'CNTKCTL_EL12', 0x303n);
    expect(rd(m, 'CNTKCTL_EL12')).toBe(0x303n);
    expect(rd(m, 'CNTKCTL_EL1')).toBe(0n); // CNTHCTL_EL2, untouched
    run(m, eret);
    expect(rd(m, 'CNTKCTL_EL1')).toBe(0x303n);
  });

  it('UNDEFINED with E2H=0, at vEL1, and without FEAT_VHE', () => {
    expect(mk({ guest: 'nvhe' }).step(mrs('CNTKCTL_EL12')).fault).toBe('undefined');
    const m = mk({ guest: 'vhe' });
    run(m, eret);
    expect(m.step(mrs('CNTKCTL_EL12')).fault).toBe('undefined');
    expect(mk({ guest: 'nvhe', absent: ['vhe'] }).step(msr('CNTKCTL_EL12', 1n)).fault).toBe('undefined');
  });
});

describe('the self-synchronised counters (FEAT_ECV)', () => {
  it('CNTPCTSS_EL0 and CNTVCTSS_EL0 read what CNTPCT_EL0 and CNTVCT_EL0 read, at vEL2 and vEL1, with the offsets in force', () => {
    for (const guest of ['vhe', 'nvhe'] as const) {
      const m = mk({ guest, features: ecv, count: 0x5000n });
      wr(m, 'CNTVOFF_EL2', 0x100n);
      wr(m, 'CNTPOFF_EL2', 0x40n);
      wr(m, 'CNTHCTL_EL2', OPEN[guest] | ECV);
      expect(rd(m, 'CNTPCTSS_EL0')).toBe(rd(m, 'CNTPCT_EL0'));
      // E2H=1 at EL2: no virtual offset; E2H=0: CNTVOFF_EL2.
      expect(rd(m, 'CNTVCTSS_EL0')).toBe(guest === 'vhe' ? 0x5000n : 0x4f00n);
      run(m, eret);
      expect(rd(m, 'CNTPCTSS_EL0')).toBe(0x5000n - 0x40n);
      expect(rd(m, 'CNTVCTSS_EL0')).toBe(0x5000n - 0x100n);
    }
  });

  it('they are read-only, UNDEFINED without FEAT_ECV, and trapped from vEL1 like the counters they view', () => {
    const m = mk({ guest: 'vhe', features: ecv });
    expect(m.step(msr('CNTPCTSS_EL0', 1n)).fault).toBe('undefined');
    expect(mk({ guest: 'vhe' }).step(mrs('CNTVCTSS_EL0')).fault).toBe('undefined');
    // EL1PCTEN = 0 traps CNTPCTSS_EL0; EL1TVCT = 1 traps CNTVCTSS_EL0.
    const a = mk({ guest: 'vhe', features: ecv });
    wr(a, 'CNTHCTL_EL2', 0x800n);
    run(a, eret);
    expect(a.step(mrs('CNTPCTSS_EL0')).fault).toBe('trap');
    const b = mk({ guest: 'nvhe', features: ecv });
    wr(b, 'CNTHCTL_EL2', OPEN.nvhe | EL1TVCT);
    run(b, eret);
    expect(b.step(mrs('CNTVCTSS_EL0')).fault).toBe('trap');
  });
});

describe('WFIT (FEAT_WFxT)', () => {
  const wx: Feature[] = ['wfxt'];

  it('wakes at the deadline on the virtual count as CNTVCT_EL0 reads at vEL2 with E2H=1 (no offset)', () => {
    const m = mk({ guest: 'vhe', features: wx, count: 0x100n });
    wr(m, 'CNTVOFF_EL2', 0x80n);
    expect(m.step(wfit(0x140n))).toEqual({ irq: 0, elapsed: 0x40n });
    expect(m.count).toBe(0x140n);
  });

  it('with E2H=0 at vEL2, and at vEL1, the deadline is on count - CNTVOFF_EL2', () => {
    const m = mk({ guest: 'nvhe', features: wx, count: 0x100n });
    wr(m, 'CNTVOFF_EL2', 0x80n);
    // virtual count 0x80; deadline 0xc0: 0x40 counts.
    expect(m.step(wfit(0xc0n)).elapsed).toBe(0x40n);
    const v = mk({ guest: 'vhe', features: wx, count: 0x100n });
    wr(v, 'CNTVOFF_EL2', 0x80n);
    run(v, eret);
    expect(v.step(wfit(0xc0n)).elapsed).toBe(0x40n);
  });

  it('wakes earlier when a timer interrupt line is asserted first, and at once when the deadline has passed', () => {
    const m = mk({ guest: 'vhe', features: wx, count: 0x100n });
    wr(m, 'CNTHP_CVAL_EL2', 0x110n);
    wr(m, 'CNTHP_CTL_EL2', 1n);
    expect(m.step(wfit(0x1000n))).toEqual({ irq: 1, elapsed: 0x10n });
    const n = mk({ guest: 'vhe', features: wx, count: 0x100n });
    expect(n.step(wfit(0x80n))).toEqual({ irq: 0, elapsed: 0n });
  });

  it('a masked timer does not wake it (its line is not asserted)', () => {
    const m = mk({ guest: 'vhe', features: wx, count: 0x100n });
    wr(m, 'CNTV_CVAL_EL0', 0x110n); // CNTHV at vEL2 with E2H=1
    wr(m, 'CNTV_CTL_EL0', 3n);
    expect(m.step(wfit(0x200n)).elapsed).toBe(0x100n);
  });

  it('is UNDEFINED without FEAT_WFxT, and time does not pass', () => {
    const m = mk({ guest: 'vhe', count: 0x100n });
    expect(m.step(wfit(0x200n))).toEqual({ irq: 0, fault: 'undefined' });
    expect(m.count).toBe(0x100n);
    run(m, tick(1n));
    expect(m.count).toBe(0x101n);
  });
});

describe('a virtual CPU without FEAT_VHE', () => {
  it('CNTHV UNDEFINED without FEAT_VHE: every CNTHV_*_EL2 view faults; with FEAT_VHE they are accessible at E2H=0', () => {
    for (const reg of ['CNTHV_CTL_EL2', 'CNTHV_CVAL_EL2', 'CNTHV_TVAL_EL2']) {
      expect(mk({ guest: 'nvhe', absent: ['vhe'] }).step(mrs(reg)).fault, reg).toBe('undefined');
      expect(mk({ guest: 'nvhe' }).step(mrs(reg)).fault, reg).toBeUndefined();
    }
    // And the timer is gone: nothing of it can fire.
    const m = mk({ guest: 'nvhe', absent: ['vhe'] });
    expect(m.step(msr('CNTHV_CTL_EL2', 1n)).fault).toBe('undefined');
    expect(run(m, tick(5n)).irq & V).toBe(0);
  });
});
