/**
 * Unit tests of the architectural reference model, one architectural rule per test.
 * Rules are from shared/reference/arm-timer-nv2-facts.md (§1 EL1 timers, §1.5 CNTHCTL_EL2, §2 E2H
 * redirection) and shared/spec/trace-format.md. Expected values are computed here by hand or by
 * the small independent helpers in util.ts, never by the model's own arithmetic.
 */
import { describe, expect, it } from 'vitest';
import { type ReferenceModel } from '../../models/reference/reference.js';
import { InputError } from '../../models/arch/errors.js';
import type { GuestMode } from '../../models/arch/vocabulary.js';
import {
  HP, HV, MASK, M32, M64, P, V, eret, exit, lo32, mk, mrs, msr, preempt, rd, rdx, run, tick, wfi, wr,
} from './util.js';

const ALL_IRQ = HP | HV | P | V;
const CNTHCTL_VHE_EL1PTEN = 1n << 11n;
const CNTHCTL_VHE_EL1PCTEN = 1n << 10n;
const CNTHCTL_NVHE_EL1PCEN = 1n << 1n;
const CNTHCTL_NVHE_EL1PCTEN = 1n << 0n;
const CNTHCTL_ECV = 1n << 12n;
const CNTHCTL_EL1TVT = 1n << 13n;
const CNTHCTL_EL1TVCT = 1n << 14n;
/** CNTHCTL_EL2 value that lets vEL1 use the physical timer and counter, per layout. */
const EL1_PHYS_OPEN: Record<GuestMode, bigint> = {
  vhe: CNTHCTL_VHE_EL1PTEN | CNTHCTL_VHE_EL1PCTEN,
  nvhe: CNTHCTL_NVHE_EL1PCEN | CNTHCTL_NVHE_EL1PCTEN,
};

// ---------------------------------------------------------------------------------------------
describe('counter and offset wrap-around (facts §1.3, §1.4)', () => {
  it('the physical count wraps modulo 2^64 when a tick crosses 2^64', () => {
    const m = mk({ count: MASK - 2n });
    expect(rd(m, 'CNTPCT_EL0')).toBe(MASK - 2n);
    run(m, tick(5n));
    expect(rd(m, 'CNTPCT_EL0')).toBe(2n);
  });

  it('a tick landing exactly on 2^64 reads as count 0', () => {
    const m = mk({ count: MASK });
    run(m, tick(1n));
    expect(rd(m, 'CNTPCT_EL0')).toBe(0n);
  });

  it('preempt advances the count like tick, also across 2^64', () => {
    const m = mk({ count: MASK - 1n });
    run(m, preempt(0x10n));
    expect(rd(m, 'CNTPCT_EL0')).toBe(0xen);
  });

  it('CNTVCT = (count - CNTVOFF) mod 2^64: with CNTVOFF > count the virtual count is near 2^64 (nvhe vEL2)', () => {
    const m = mk({ guest: 'nvhe', count: 0x10n, init: { CNTVOFF_EL2: 0x20n } });
    expect(rd(m, 'CNTVCT_EL0')).toBe(M64 - 0x10n);
  });

  it('CNTVCT at vEL1 is count - CNTVOFF mod 2^64 and crosses 0 when the count catches up with CNTVOFF', () => {
    const m = mk({ guest: 'vhe', count: 0x10n, init: { CNTVOFF_EL2: 0x20n } });
    run(m, eret);
    expect(rd(m, 'CNTVCT_EL0')).toBe(M64 - 0x10n);
    run(m, tick(0x18n));
    expect(rd(m, 'CNTVCT_EL0')).toBe(8n);
  });

  it('vtimer condition is an unsigned compare: virtual count 2^64-16 meets CVAL 0x100 (signed would not)', () => {
    const m = mk({ guest: 'vhe', count: 0x10n, init: { CNTVOFF_EL2: 0x20n } });
    wr(m, 'CNTV_CVAL_EL02', 0x100n);
    const e = wr(m, 'CNTV_CTL_EL02', 1n);
    expect(e.irq).toBe(V);
    expect(rd(m, 'CNTV_CTL_EL02')).toBe(5n);
  });

  it('vtimer condition is an unsigned compare: met only between CVAL and the wrap of count - CNTVOFF', () => {
    const m = mk({ guest: 'vhe', count: 0x10n, init: { CNTVOFF_EL2: 0x20n } });
    wr(m, 'CNTV_CVAL_EL02', MASK - 7n); // virtual count is 2^64-16 now
    expect(wr(m, 'CNTV_CTL_EL02', 1n).irq).toBe(0);
    expect(rd(m, 'CNTV_CTL_EL02')).toBe(1n);
    expect(run(m, tick(7n)).irq).toBe(0); // 2^64-9 < 2^64-8
    expect(run(m, tick(1n)).irq).toBe(V); // 2^64-8 >= 2^64-8
    expect(run(m, tick(7n)).irq).toBe(V); // 2^64-1
    expect(run(m, tick(1n)).irq).toBe(0); // virtual count wrapped to 0 < CVAL
    expect(rd(m, 'CNTV_CTL_EL02')).toBe(1n);
  });

  it('hptimer condition deasserts when the physical count wraps past 2^64', () => {
    const m = mk({ count: MASK - 1n });
    wr(m, 'CNTHP_CVAL_EL2', MASK);
    expect(wr(m, 'CNTHP_CTL_EL2', 1n).irq).toBe(0);
    expect(run(m, tick(1n)).irq).toBe(HP);
    expect(run(m, tick(1n)).irq).toBe(0);
  });

  it('CVAL = 2^64-1 never fires for any smaller count', () => {
    const m = mk({ count: 0n });
    wr(m, 'CNTHP_CVAL_EL2', MASK);
    wr(m, 'CNTHP_CTL_EL2', 1n);
    for (const by of [1n, 1n << 32n, 1n << 62n, 1n << 62n, (1n << 63n) - (1n << 32n) - 3n]) {
      expect(run(m, tick(by)).irq).toBe(0);
      expect(rd(m, 'CNTHP_CTL_EL2')).toBe(1n);
    }
    expect(rd(m, 'CNTPCT_EL0')).toBe(MASK - 1n);
    expect(run(m, tick(1n)).irq).toBe(HP);
  });

  it('CVAL = 0 is met by every count, including count 0', () => {
    const m = mk({ count: 0n });
    expect(wr(m, 'CNTHV_CTL_EL2', 1n).irq).toBe(HV);
  });
});

// ---------------------------------------------------------------------------------------------
describe('TVAL write: CVAL = (count - offset) + SignExtend(X<31:0>) mod 2^64 (facts §1.2)', () => {
  const C = 0x1234_5678_9abcn;
  const cases: [string, bigint, bigint][] = [
    ['0', 0n, C],
    ['+1', 1n, C + 1n],
    ['-1 (0xffffffff)', 0xffff_ffffn, C - 1n],
    ['0x7fffffff (largest positive)', 0x7fff_ffffn, C + 0x7fff_ffffn],
    ['0x80000000 (sign-extended: now - 2^31)', 0x8000_0000n, C - (1n << 31n)],
    ['0xfffffff0 (-16)', 0xffff_fff0n, C - 16n],
    ['upper 32 bits set, low 0x10 (upper ignored)', 0xdead_beef_0000_0010n, C + 0x10n],
    ['0xffffffff_00000000 (upper ignored: 0)', 0xffff_ffff_0000_0000n, C],
    ['0x00000001_ffffffff (upper ignored: -1)', 0x1_ffff_ffffn, C - 1n],
    ['0x7fffffff_80000000 (upper ignored: -2^31)', 0x7fff_ffff_8000_0000n, C - (1n << 31n)],
    ['0xffffffff_7fffffff (upper ignored: +2^31-1)', 0xffff_ffff_7fff_ffffn, C + 0x7fff_ffffn],
  ];
  it.each(cases)('TVAL write of %s sets CVAL accordingly (EL2 physical timer, no offset)', (_n, v, cval) => {
    const m = mk({ count: C });
    wr(m, 'CNTHP_TVAL_EL2', v);
    expect(rd(m, 'CNTHP_CVAL_EL2')).toBe(cval);
  });

  it('TVAL write of -16 at count 5 wraps CVAL below 0 to 2^64-11', () => {
    const m = mk({ count: 5n });
    wr(m, 'CNTHV_TVAL_EL2', 0xffff_fff0n);
    expect(rd(m, 'CNTHV_CVAL_EL2')).toBe(M64 - 11n);
  });

  it('TVAL write of +5 at count 2^64-2 wraps CVAL past 2^64 to 3', () => {
    const m = mk({ count: MASK - 1n });
    wr(m, 'CNTHV_TVAL_EL2', 5n);
    expect(rd(m, 'CNTHV_CVAL_EL2')).toBe(3n);
  });

  it('TVAL write is relative to count - CNTVOFF, and wraps when CNTVOFF > count (CNTV_TVAL_EL02)', () => {
    const m = mk({ guest: 'vhe', count: 0x800n, init: { CNTVOFF_EL2: 0x1000n } });
    wr(m, 'CNTV_TVAL_EL02', 0x10n);
    expect(rd(m, 'CNTV_CVAL_EL02')).toBe(M64 - 0x7f0n);
  });

  it('TVAL write of 0 makes the timer condition met at once', () => {
    const m = mk({ count: 0x5000n });
    wr(m, 'CNTHP_CTL_EL2', 1n);
    expect(rd(m, 'CNTHP_CTL_EL2')).toBe(5n); // CVAL 0 <= count
    wr(m, 'CNTHP_TVAL_EL2', 0x100n);
    expect(rd(m, 'CNTHP_CTL_EL2')).toBe(1n);
    expect(wr(m, 'CNTHP_TVAL_EL2', 0n).irq).toBe(HP);
  });

  it('TVAL write of 0x80000000 puts CVAL 2^31 in the past: condition met at once', () => {
    const m = mk({ count: 0x1_0000_0000n });
    wr(m, 'CNTHP_CTL_EL2', 1n);
    wr(m, 'CNTHP_TVAL_EL2', 0x10n);
    expect(m.irqMask()).toBe(0);
    expect(wr(m, 'CNTHP_TVAL_EL2', 0x8000_0000n).irq).toBe(HP);
  });

  it('TVAL write updates CVAL while ENABLE=0 (the value keeps counting down)', () => {
    const m = mk({ count: 0x100n });
    wr(m, 'CNTHP_TVAL_EL2', 0x40n);
    expect(rd(m, 'CNTHP_CVAL_EL2')).toBe(0x140n);
    run(m, tick(0x10n));
    wr(m, 'CNTHP_CTL_EL2', 1n);
    expect(rd(m, 'CNTHP_TVAL_EL2')).toBe(0x30n);
  });
});

// ---------------------------------------------------------------------------------------------
describe('TVAL read: ZeroExtend((CVAL - (count - offset))<31:0>) while ENABLE=1 (facts §1.2)', () => {
  const C = 0x7_0000_0000n;
  const cases: [string, bigint, bigint][] = [
    ['CVAL = now + 0x10', C + 0x10n, 0x10n],
    ['CVAL = now', C, 0n],
    ['CVAL = now - 1 (zero-extended, not sign-extended)', C - 1n, 0xffff_ffffn],
    ['CVAL = now - 2^31', C - (1n << 31n), 0x8000_0000n],
    ['CVAL = now + 2^32 + 5 (truncated to 32 bits)', C + M32 + 5n, 5n],
    ['CVAL = now - 2^32 (truncated to 0)', C - M32, 0n],
    ['CVAL = 0 (difference wraps mod 2^64)', 0n, 0n],
    ['CVAL = 2^64-1', MASK, 0xffff_ffffn],
  ];
  it.each(cases)('TVAL read with %s', (_n, cval, tval) => {
    const m = mk({ count: C });
    wr(m, 'CNTHP_CVAL_EL2', cval);
    wr(m, 'CNTHP_CTL_EL2', 1n);
    const e = rdx(m, 'CNTHP_TVAL_EL2');
    expect(e.value).toBe(tval);
    expect(e.unknown ?? 0n).toBe(0n);
  });

  it('TVAL read counts down by the ticks and wraps from 0 to 0xffffffff', () => {
    const m = mk({ count: 0x1000n });
    wr(m, 'CNTHV_CVAL_EL2', 0x1002n);
    wr(m, 'CNTHV_CTL_EL2', 1n);
    expect(rd(m, 'CNTHV_TVAL_EL2')).toBe(2n);
    run(m, tick(2n));
    expect(rd(m, 'CNTHV_TVAL_EL2')).toBe(0n);
    run(m, tick(1n));
    expect(rd(m, 'CNTHV_TVAL_EL2')).toBe(0xffff_ffffn);
    run(m, tick(0xffff_ffffn));
    expect(rd(m, 'CNTHV_TVAL_EL2')).toBe(0n);
  });

  it('TVAL read of the vtimer is relative to count - CNTVOFF with CNTVOFF > count (vEL1)', () => {
    const m = mk({ guest: 'nvhe', count: 0x100n, init: { CNTVOFF_EL2: 0x200n } });
    wr(m, 'CNTV_CVAL_EL0', 5n); // virtual count is 2^64-0x100
    wr(m, 'CNTV_CTL_EL0', 1n);
    run(m, eret);
    expect(rd(m, 'CNTV_TVAL_EL0')).toBe(0x105n);
    expect(m.irqMask()).toBe(V); // unsigned: 2^64-0x100 >= 5
  });
});

// ---------------------------------------------------------------------------------------------
describe('CTL: ENABLE, IMASK, ISTATUS, RES0 (facts §1.1, §1.3)', () => {
  it('ISTATUS is read-only: a write of 0x5 when the condition is not met reads back 0x1', () => {
    const m = mk({ count: 0x10n });
    wr(m, 'CNTHP_CVAL_EL2', 0x100n);
    expect(wr(m, 'CNTHP_CTL_EL2', 5n).irq).toBe(0);
    const e = rdx(m, 'CNTHP_CTL_EL2');
    expect(e.value).toBe(1n);
    expect(e.unknown ?? 0n).toBe(0n);
  });

  it('ISTATUS is read-only: a write of 0x4 neither enables the timer nor asserts the line', () => {
    const m = mk({ count: 0x10n });
    expect(wr(m, 'CNTHP_CTL_EL2', 4n).irq).toBe(0); // CVAL 0 <= count, but ENABLE=0
    const e = rdx(m, 'CNTHP_CTL_EL2');
    expect(e.value! & 3n).toBe(0n);
    expect(e.unknown).toBe(4n); // only ISTATUS is UNKNOWN (disabled)
  });

  it('ISTATUS is read-only: a write of 0x1 when the condition is met reads back 0x5', () => {
    const m = mk({ count: 0x10n });
    wr(m, 'CNTHV_CVAL_EL2', 0x10n);
    wr(m, 'CNTHV_CTL_EL2', 1n);
    expect(rd(m, 'CNTHV_CTL_EL2')).toBe(5n);
  });

  it('ISTATUS is UNKNOWN while ENABLE=0 (unknown mask is exactly bit 2)', () => {
    const m = mk({ count: 0x10n });
    for (const ctl of [0n, 2n]) {
      wr(m, 'CNTHP_CTL_EL2', ctl);
      const e = rdx(m, 'CNTHP_CTL_EL2');
      expect(e.unknown).toBe(4n);
      expect(e.value! & ~4n).toBe(ctl);
    }
  });

  it('TVAL is UNKNOWN (all 64 bits) while ENABLE=0', () => {
    const m = mk({ count: 0x10n });
    wr(m, 'CNTHP_CVAL_EL2', 0x20n);
    expect(rdx(m, 'CNTHP_TVAL_EL2').unknown).toBe(MASK);
    wr(m, 'CNTHP_CTL_EL2', 2n); // IMASK alone does not enable
    expect(rdx(m, 'CNTHP_TVAL_EL2').unknown).toBe(MASK);
    wr(m, 'CNTHP_CTL_EL2', 3n);
    expect(rdx(m, 'CNTHP_TVAL_EL2')).toMatchObject({ value: 0x10n });
    expect(rdx(m, 'CNTHP_TVAL_EL2').unknown ?? 0n).toBe(0n);
  });

  it('IMASK masks the interrupt line but not ISTATUS', () => {
    const m = mk({ count: 0x10n });
    expect(wr(m, 'CNTHP_CTL_EL2', 3n).irq).toBe(0);
    expect(rd(m, 'CNTHP_CTL_EL2')).toBe(7n);
    expect(wr(m, 'CNTHP_CTL_EL2', 1n).irq).toBe(HP);
    expect(rd(m, 'CNTHP_CTL_EL2')).toBe(5n);
  });

  it('the interrupt line is ENABLE && ISTATUS && !IMASK, for every CTL value and both condition states', () => {
    for (const met of [false, true]) {
      for (const ctl of [0n, 1n, 2n, 3n]) {
        const m = mk({ count: 0x100n });
        wr(m, 'CNTHV_CVAL_EL2', met ? 0x100n : 0x101n);
        const e = wr(m, 'CNTHV_CTL_EL2', ctl);
        const expected = ctl === 1n && met ? HV : 0;
        expect(e.irq, `ctl=${ctl} met=${met}`).toBe(expected);
      }
    }
  });

  it('CTL RES0 bit 63 written with 1 reads back as UNKNOWN', () => {
    const m = mk({ count: 0x10n });
    wr(m, 'CNTHP_CVAL_EL2', 0x100n);
    wr(m, 'CNTHP_CTL_EL2', (1n << 63n) | 1n);
    const e = rdx(m, 'CNTHP_CTL_EL2');
    expect(e.unknown).toBe(1n << 63n);
    expect(e.value! & ~(1n << 63n)).toBe(1n);
  });

  it('CTL RES0 bits [63:3] written with 1 do not change ENABLE/IMASK semantics', () => {
    const m = mk({ count: 0x10n });
    expect(wr(m, 'CNTHP_CTL_EL2', MASK & ~6n).irq).toBe(HP); // ENABLE=1, IMASK=0, ISTATUS written 0
    const e = rdx(m, 'CNTHP_CTL_EL2');
    expect(e.unknown).toBe(MASK & ~7n);
    expect(e.value! & 7n).toBe(5n);
  });

  it('CNTHCTL_EL2 bits [11:8] are RES0 for an nvhe guest: written 1s read back UNKNOWN', () => {
    const m = mk({ guest: 'nvhe' });
    wr(m, 'CNTHCTL_EL2', 0xf03n);
    const e = rdx(m, 'CNTHCTL_EL2');
    expect(e.unknown).toBe(0xf00n);
    expect(e.value! & ~0xf00n).toBe(3n);
  });

  it('CNTHCTL_EL2 bits [11:8] hold state for a vhe guest (EL1PTEN, EL1PCTEN, EL0PTEN, EL0VTEN)', () => {
    const m = mk({ guest: 'vhe' });
    wr(m, 'CNTHCTL_EL2', 0xf03n);
    expect(rd(m, 'CNTHCTL_EL2')).toBe(0xf03n);
  });

  it('CNTHCTL_EL2 bits [63:20] are RES0 in both layouts', () => {
    for (const guest of ['vhe', 'nvhe'] as const) {
      const m = mk({ guest });
      wr(m, 'CNTHCTL_EL2', (1n << 40n) | (1n << 20n) | 1n);
      expect(rdx(m, 'CNTHCTL_EL2').unknown).toBe((1n << 40n) | (1n << 20n));
    }
  });

  it('CNTHCTL_EL2 ECV bits [17:12] are RES0 without FEAT_ECV and hold state with it', () => {
    const without = mk({ guest: 'vhe' });
    wr(without, 'CNTHCTL_EL2', 0x3f000n);
    expect(rdx(without, 'CNTHCTL_EL2').unknown).toBe(0x3f000n);
    const withEcv = mk({ guest: 'vhe', features: ['ecv'] });
    wr(withEcv, 'CNTHCTL_EL2', 0x3f000n);
    expect(rd(withEcv, 'CNTHCTL_EL2')).toBe(0x3f000n);
  });

  it('CNTKCTL_EL1 bit 20 is RES0: written 1 reads back UNKNOWN (nvhe vEL2 and vEL1)', () => {
    const m = mk({ guest: 'nvhe' });
    wr(m, 'CNTKCTL_EL1', (1n << 20n) | 0x3n);
    let e = rdx(m, 'CNTKCTL_EL1');
    expect(e.unknown).toBe(1n << 20n);
    expect(e.value! & ~(1n << 20n)).toBe(3n);
    run(m, eret);
    e = rdx(m, 'CNTKCTL_EL1');
    expect(e.unknown).toBe(1n << 20n);
    wr(m, 'CNTKCTL_EL1', (1n << 20n) | 0x201n);
    e = rdx(m, 'CNTKCTL_EL1');
    expect(e.unknown).toBe(1n << 20n);
    expect(e.value! & ~(1n << 20n)).toBe(0x201n);
  });

  it('CNTVOFF_EL2 and CVAL hold all 64 bits', () => {
    const m = mk({ guest: 'vhe' });
    wr(m, 'CNTVOFF_EL2', MASK);
    expect(rd(m, 'CNTVOFF_EL2')).toBe(MASK);
    wr(m, 'CNTV_CVAL_EL02', 0x8000_0000_0000_0001n);
    expect(rd(m, 'CNTV_CVAL_EL02')).toBe(0x8000_0000_0000_0001n);
  });
});

// ---------------------------------------------------------------------------------------------
describe('E2H redirection at vEL2 (facts §2)', () => {
  const BIT = { hptimer: HP, hvtimer: HV, ptimer: P, vtimer: V } as const;
  type T = keyof typeof BIT;
  const views = ['CTL', 'CVAL', 'TVAL'] as const;
  const map: [GuestMode, string, T][] = [];
  for (const v of views) {
    map.push(['vhe', `CNTP_${v}_EL0`, 'hptimer'], ['vhe', `CNTV_${v}_EL0`, 'hvtimer']);
    map.push(['vhe', `CNTP_${v}_EL02`, 'ptimer'], ['vhe', `CNTV_${v}_EL02`, 'vtimer']);
    map.push(['nvhe', `CNTP_${v}_EL0`, 'ptimer'], ['nvhe', `CNTV_${v}_EL0`, 'vtimer']);
    for (const g of ['vhe', 'nvhe'] as const) map.push([g, `CNTHP_${v}_EL2`, 'hptimer'], [g, `CNTHV_${v}_EL2`, 'hvtimer']);
  }
  const enableAll = (m: ReferenceModel, g: GuestMode): void => {
    const names = g === 'vhe'
      ? ['CNTHP_CTL_EL2', 'CNTHV_CTL_EL2', 'CNTP_CTL_EL02', 'CNTV_CTL_EL02']
      : ['CNTHP_CTL_EL2', 'CNTHV_CTL_EL2', 'CNTP_CTL_EL0', 'CNTV_CTL_EL0'];
    for (const n of names) wr(m, n, 1n);
  };

  it.each(map)('%s guest: %s at vEL2 is the %s', (guest, name, timer) => {
    const m = mk({ guest, count: 0x1000n });
    if (name.includes('_CTL_')) {
      // All CVALs are 0 and all offsets 0: enabling exactly one timer asserts exactly its line.
      expect(wr(m, name, 1n).irq).toBe(BIT[timer]);
      expect(rd(m, name)).toBe(5n);
    } else {
      enableAll(m, guest);
      expect(m.irqMask()).toBe(ALL_IRQ);
      // Moving this timer's CVAL far into the future drops exactly its line.
      const e = wr(m, name, name.includes('_CVAL_') ? MASK : 0x7fff_ffffn);
      expect(e.irq).toBe(ALL_IRQ & ~BIT[timer]);
    }
  });

  it('vhe: the EL1 timers written through _EL02 at vEL2 are the ones the nested guest sees at vEL1', () => {
    const m = mk({ guest: 'vhe', count: 0x1000n, init: { CNTHCTL_EL2: EL1_PHYS_OPEN.vhe } });
    wr(m, 'CNTP_CVAL_EL02', 0xabcn);
    wr(m, 'CNTV_CVAL_EL02', 0xdefn);
    wr(m, 'CNTP_CVAL_EL0', 0x111n); // hptimer, not seen at vEL1
    wr(m, 'CNTV_CVAL_EL0', 0x222n); // hvtimer, not seen at vEL1
    wr(m, 'CNTP_CTL_EL02', 3n);
    run(m, eret);
    expect(rd(m, 'CNTP_CVAL_EL0')).toBe(0xabcn);
    expect(rd(m, 'CNTV_CVAL_EL0')).toBe(0xdefn);
    expect(rd(m, 'CNTP_CTL_EL0')).toBe(7n);
    expect(rdx(m, 'CNTV_CTL_EL0').value! & 3n).toBe(0n);
  });

  it('nvhe: the EL1 timers written through _EL0 names at vEL2 are the ones the nested guest sees at vEL1', () => {
    const m = mk({ guest: 'nvhe', count: 0x1000n, init: { CNTHCTL_EL2: EL1_PHYS_OPEN.nvhe } });
    wr(m, 'CNTP_CVAL_EL0', 0xabcn);
    wr(m, 'CNTV_CVAL_EL0', 0xdefn);
    wr(m, 'CNTHP_CVAL_EL2', 0x111n);
    run(m, eret);
    expect(rd(m, 'CNTP_CVAL_EL0')).toBe(0xabcn);
    expect(rd(m, 'CNTV_CVAL_EL0')).toBe(0xdefn);
  });

  it('vhe: CNTV_TVAL_EL0 at vEL2 is the EL2 virtual timer and applies no CNTVOFF', () => {
    const m = mk({ guest: 'vhe', count: 0x1000n, init: { CNTVOFF_EL2: 0x100n } });
    wr(m, 'CNTV_TVAL_EL0', 0x10n);
    expect(rd(m, 'CNTHV_CVAL_EL2')).toBe(0x1010n);
    expect(rd(m, 'CNTV_CVAL_EL0')).toBe(0x1010n);
    expect(rd(m, 'CNTV_CVAL_EL02')).toBe(0n);
    wr(m, 'CNTV_CTL_EL0', 1n);
    expect(rd(m, 'CNTV_TVAL_EL0')).toBe(0x10n);
    expect(run(m, tick(0x10n)).irq).toBe(HV);
  });

  it('nvhe: CNTV_TVAL_EL0 at vEL2 is the EL1 virtual timer and applies CNTVOFF', () => {
    const m = mk({ guest: 'nvhe', count: 0x1000n, init: { CNTVOFF_EL2: 0x100n } });
    wr(m, 'CNTV_TVAL_EL0', 0x10n);
    expect(rd(m, 'CNTV_CVAL_EL0')).toBe(0xf10n);
    expect(rd(m, 'CNTHV_CVAL_EL2')).toBe(0n);
    wr(m, 'CNTV_CTL_EL0', 1n);
    expect(rd(m, 'CNTV_TVAL_EL0')).toBe(0x10n);
    expect(run(m, tick(0xfn)).irq).toBe(0);
    expect(run(m, tick(1n)).irq).toBe(V);
  });

  it('vhe: CNTV_TVAL_EL02 applies CNTVOFF on write and read', () => {
    const m = mk({ guest: 'vhe', count: 0x1000n, init: { CNTVOFF_EL2: 0x100n } });
    wr(m, 'CNTV_TVAL_EL02', 0x10n);
    expect(rd(m, 'CNTV_CVAL_EL02')).toBe(0xf10n);
    wr(m, 'CNTV_CTL_EL02', 1n);
    expect(rd(m, 'CNTV_TVAL_EL02')).toBe(0x10n);
    wr(m, 'CNTVOFF_EL2', 0x108n);
    expect(rd(m, 'CNTV_TVAL_EL02')).toBe(0x18n);
  });

  it('vhe: CNTP_TVAL_EL0 at vEL2 is the EL2 physical timer and applies no offset', () => {
    const m = mk({ guest: 'vhe', features: ['ecv'], count: 0x1000n, init: { CNTPOFF_EL2: 0x300n, CNTHCTL_EL2: CNTHCTL_ECV } });
    wr(m, 'CNTP_TVAL_EL0', 0x10n);
    expect(rd(m, 'CNTHP_CVAL_EL2')).toBe(0x1010n);
  });

  it('vhe: CNTP_TVAL_EL02 applies no CNTPOFF even with ecv and CNTHCTL_EL2.ECV=1 (the condition does)', () => {
    const m = mk({ guest: 'vhe', features: ['ecv'], count: 0x1000n, init: { CNTPOFF_EL2: 0x300n, CNTHCTL_EL2: CNTHCTL_ECV } });
    wr(m, 'CNTP_TVAL_EL02', 0x10n);
    expect(rd(m, 'CNTP_CVAL_EL02')).toBe(0x1010n);
    wr(m, 'CNTP_CTL_EL02', 1n);
    expect(rd(m, 'CNTP_TVAL_EL02')).toBe(0x10n);
    // TVAL counts to 0 against the physical count, but the EL1 physical timer condition uses count - CNTPOFF.
    expect(run(m, tick(0x10n)).irq).toBe(0);
    expect(rd(m, 'CNTP_TVAL_EL02')).toBe(0n);
    expect(rd(m, 'CNTP_CTL_EL02')).toBe(1n);
    expect(run(m, tick(0x2ffn)).irq).toBe(0);
    expect(run(m, tick(1n)).irq).toBe(P);
  });

  it('nvhe: CNTP_TVAL_EL0 at vEL2 applies no CNTPOFF even with ecv and CNTHCTL_EL2.ECV=1', () => {
    const m = mk({ guest: 'nvhe', features: ['ecv'], count: 0x1000n, init: { CNTPOFF_EL2: 0x300n, CNTHCTL_EL2: CNTHCTL_ECV } });
    wr(m, 'CNTP_TVAL_EL0', 0x10n);
    expect(rd(m, 'CNTP_CVAL_EL0')).toBe(0x1010n);
  });

  it('vhe: CNTKCTL_EL1 at vEL2 is CNTHCTL_EL2', () => {
    const m = mk({ guest: 'vhe' });
    wr(m, 'CNTKCTL_EL1', 0xc03n);
    expect(rd(m, 'CNTHCTL_EL2')).toBe(0xc03n);
    wr(m, 'CNTHCTL_EL2', 0x800n);
    expect(rd(m, 'CNTKCTL_EL1')).toBe(0x800n);
    run(m, eret);
    expect(rd(m, 'CNTKCTL_EL1')).toBe(0n); // the nested guest's own CNTKCTL_EL1 was never written
    expect(m.step(mrs('CNTP_CTL_EL0')).fault).toBeUndefined(); // EL1PTEN=1 took effect
  });

  it('nvhe: CNTKCTL_EL1 at vEL2 is CNTKCTL_EL1 (separate from CNTHCTL_EL2)', () => {
    const m = mk({ guest: 'nvhe' });
    wr(m, 'CNTKCTL_EL1', 0x3n);
    expect(rd(m, 'CNTHCTL_EL2')).toBe(0n);
    run(m, eret);
    expect(rd(m, 'CNTKCTL_EL1')).toBe(3n);
    expect(m.step(mrs('CNTP_CTL_EL0')).fault).toBe('trap');
  });

  it('vhe: CNTVCT_EL0 at vEL2 is the physical count (no CNTVOFF)', () => {
    const m = mk({ guest: 'vhe', count: 0x1000n, init: { CNTVOFF_EL2: 0x100n } });
    expect(rd(m, 'CNTVCT_EL0')).toBe(0x1000n);
  });

  it('nvhe: CNTVCT_EL0 at vEL2 is count - CNTVOFF (mod 2^64)', () => {
    const m = mk({ guest: 'nvhe', count: 0x1000n, init: { CNTVOFF_EL2: 0x100n } });
    expect(rd(m, 'CNTVCT_EL0')).toBe(0xf00n);
    wr(m, 'CNTVOFF_EL2', 0x1001n);
    expect(rd(m, 'CNTVCT_EL0')).toBe(MASK);
  });

  it('CNTPCT_EL0 at vEL2 is the physical count in both modes, even with ecv and CNTHCTL_EL2.ECV=1', () => {
    for (const guest of ['vhe', 'nvhe'] as const) {
      const m = mk({ guest, features: ['ecv'], count: 0x1000n, init: { CNTPOFF_EL2: 0x300n, CNTHCTL_EL2: CNTHCTL_ECV } });
      expect(rd(m, 'CNTPCT_EL0')).toBe(0x1000n);
    }
  });
});

// ---------------------------------------------------------------------------------------------
describe('UNDEFINED accesses', () => {
  const EL2_NAMES = ['CNTHP_CTL_EL2', 'CNTHP_CVAL_EL2', 'CNTHP_TVAL_EL2', 'CNTHV_CTL_EL2', 'CNTHV_CVAL_EL2',
    'CNTHV_TVAL_EL2', 'CNTVOFF_EL2', 'CNTHCTL_EL2'];
  const EL02_NAMES = ['CNTP_CTL_EL02', 'CNTP_CVAL_EL02', 'CNTP_TVAL_EL02', 'CNTV_CTL_EL02', 'CNTV_CVAL_EL02', 'CNTV_TVAL_EL02'];
  const undefAt = (m: ReferenceModel, op: ReturnType<typeof mrs>): void => {
    const el = m.el;
    const e = m.step(op);
    expect(e.fault, JSON.stringify(op, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString(16) : v))).toBe('undefined');
    expect(e.value).toBeUndefined();
    expect(m.el).toBe(el);
  };

  for (const guest of ['vhe', 'nvhe'] as const) {
    it.each([...EL2_NAMES, ...EL02_NAMES])(`${guest}: %s at vEL1 (NV=0) is UNDEFINED and leaves the vCPU at vEL1`, (name) => {
      const m = mk({ guest, count: 0x10n });
      run(m, eret);
      undefAt(m, mrs(name));
      undefAt(m, msr(name, 1n));
      expect(() => m.step(exit)).not.toThrow();
      // the write had no effect on any timer
      expect(m.irqMask()).toBe(0);
      expect(rdx(m, 'CNTHP_CTL_EL2').value! & 3n).toBe(0n);
      expect(rd(m, 'CNTVOFF_EL2')).toBe(0n);
      expect(rd(m, 'CNTHCTL_EL2')).toBe(0n);
    });
  }

  it('CNTPOFF_EL2 at vEL1 is UNDEFINED even with ecv', () => {
    const m = mk({ features: ['ecv'] });
    run(m, eret);
    undefAt(m, mrs('CNTPOFF_EL2'));
    undefAt(m, msr('CNTPOFF_EL2', 5n));
  });

  it.each(EL02_NAMES)('nvhe: %s at vEL2 is UNDEFINED (no E2H)', (name) => {
    const m = mk({ guest: 'nvhe', count: 0x10n });
    undefAt(m, msr(name, 1n));
    undefAt(m, mrs(name));
    expect(m.irqMask()).toBe(0);
    expect(rd(m, 'CNTP_CVAL_EL0')).toBe(0n);
    expect(rd(m, 'CNTV_CVAL_EL0')).toBe(0n);
  });

  for (const guest of ['vhe', 'nvhe'] as const) {
    it(`${guest}: an msr to CNTPCT_EL0 or CNTVCT_EL0 is UNDEFINED at vEL2 and at vEL1 (before any trap)`, () => {
      const m = mk({ guest, features: ['ecv'], count: 0x10n, init: { CNTHCTL_EL2: CNTHCTL_EL1TVCT } });
      undefAt(m, msr('CNTPCT_EL0', 0n));
      undefAt(m, msr('CNTVCT_EL0', 0n));
      expect(rd(m, 'CNTPCT_EL0')).toBe(0x10n);
      run(m, eret);
      // EL1PCTEN=0 and EL1TVCT=1 would trap the reads; the writes are UNDEFINED instead.
      undefAt(m, msr('CNTPCT_EL0', 0n));
      undefAt(m, msr('CNTVCT_EL0', 0n));
    });

    it(`${guest}: CNTPOFF_EL2 without ecv is UNDEFINED at vEL2`, () => {
      const m = mk({ guest });
      undefAt(m, mrs('CNTPOFF_EL2'));
      undefAt(m, msr('CNTPOFF_EL2', 0x100n));
    });
  }

  it('CNTPOFF_EL2 with ecv is an ordinary 64-bit register at vEL2', () => {
    const m = mk({ features: ['ecv'] });
    wr(m, 'CNTPOFF_EL2', MASK - 1n);
    expect(rd(m, 'CNTPOFF_EL2')).toBe(MASK - 1n);
  });
});

// ---------------------------------------------------------------------------------------------
describe('vEL1 traps by the guest hypervisor\'s CNTHCTL_EL2 (facts §1.5)', () => {
  const PHYS_TIMER = ['CNTP_CTL_EL0', 'CNTP_CVAL_EL0', 'CNTP_TVAL_EL0'];
  const VIRT_TIMER = ['CNTV_CTL_EL0', 'CNTV_CVAL_EL0', 'CNTV_TVAL_EL0'];
  type Case = { name: string; write: boolean };
  const accesses = (names: string[], withWrites = true): Case[] =>
    names.flatMap((name) => [{ name, write: false }, ...(withWrites ? [{ name, write: true }] : [])]);

  /** Run one access at vEL1 with the given CNTHCTL_EL2 and report whether it trapped. */
  function trapped(guest: GuestMode, cnthctl: bigint, a: Case, ecv = false): boolean {
    const m = mk({ guest, count: 0x1000n, features: ecv ? ['ecv'] : [] });
    wr(m, 'CNTHCTL_EL2', cnthctl);
    run(m, eret);
    const e = m.step(a.write ? msr(a.name, 0x55n) : mrs(a.name));
    if (e.fault === 'trap') {
      expect(e.value).toBeUndefined();
      expect(m.el).toBe(2);
      return true;
    }
    expect(e.fault).toBeUndefined();
    expect(m.el).toBe(1);
    return false;
  }

  const layouts: { guest: GuestMode; pten: bigint; pcten: bigint; other: bigint }[] = [
    { guest: 'vhe', pten: CNTHCTL_VHE_EL1PTEN, pcten: CNTHCTL_VHE_EL1PCTEN, other: CNTHCTL_NVHE_EL1PCEN | CNTHCTL_NVHE_EL1PCTEN },
    { guest: 'nvhe', pten: CNTHCTL_NVHE_EL1PCEN, pcten: CNTHCTL_NVHE_EL1PCTEN, other: CNTHCTL_VHE_EL1PTEN | CNTHCTL_VHE_EL1PCTEN },
  ];

  for (const { guest, pten, pcten, other } of layouts) {
    const nPten = guest === 'vhe' ? 'EL1PTEN (bit 11)' : 'EL1PCEN (bit 1)';
    const nPcten = guest === 'vhe' ? 'EL1PCTEN (bit 10)' : 'EL1PCTEN (bit 0)';

    it(`${guest}: ${nPten}=0 traps vEL1 CNTP_{CTL,CVAL,TVAL}_EL0 reads and writes`, () => {
      for (const a of accesses(PHYS_TIMER)) {
        expect(trapped(guest, pcten, a), `${a.write ? 'msr' : 'mrs'} ${a.name}`).toBe(true);
        expect(trapped(guest, pcten | pten, a), `${a.write ? 'msr' : 'mrs'} ${a.name}`).toBe(false);
      }
    });

    it(`${guest}: ${nPcten}=0 traps vEL1 CNTPCT_EL0 reads`, () => {
      const a = { name: 'CNTPCT_EL0', write: false };
      expect(trapped(guest, pten, a)).toBe(true);
      expect(trapped(guest, pten | pcten, a)).toBe(false);
    });

    it(`${guest}: the other layout's EL1 access bits do not open the physical timer or counter`, () => {
      for (const a of [...accesses(PHYS_TIMER), { name: 'CNTPCT_EL0', write: false }]) {
        expect(trapped(guest, other, a), `${a.write ? 'msr' : 'mrs'} ${a.name}`).toBe(true);
      }
    });

    it(`${guest}: the virtual timer, CNTVCT_EL0 and CNTKCTL_EL1 do not trap at vEL1 with CNTHCTL_EL2=0`, () => {
      for (const a of [...accesses(VIRT_TIMER), { name: 'CNTVCT_EL0', write: false }, ...accesses(['CNTKCTL_EL1'])]) {
        expect(trapped(guest, 0n, a), `${a.write ? 'msr' : 'mrs'} ${a.name}`).toBe(false);
      }
    });

    it(`${guest}: without ecv, bits 13 (EL1TVT) and 14 (EL1TVCT) have no effect`, () => {
      for (const a of [...accesses(VIRT_TIMER), { name: 'CNTVCT_EL0', write: false }]) {
        expect(trapped(guest, CNTHCTL_EL1TVT | CNTHCTL_EL1TVCT, a, false), `${a.write ? 'msr' : 'mrs'} ${a.name}`).toBe(false);
      }
    });

    it(`${guest}: with ecv, EL1TVT (bit 13)=1 traps vEL1 CNTV_{CTL,CVAL,TVAL}_EL0 but not CNTVCT_EL0`, () => {
      for (const a of accesses(VIRT_TIMER)) {
        expect(trapped(guest, CNTHCTL_EL1TVT, a, true), `${a.write ? 'msr' : 'mrs'} ${a.name}`).toBe(true);
        expect(trapped(guest, CNTHCTL_EL1TVCT, a, true), `${a.write ? 'msr' : 'mrs'} ${a.name}`).toBe(false);
      }
      expect(trapped(guest, CNTHCTL_EL1TVT, { name: 'CNTVCT_EL0', write: false }, true)).toBe(false);
    });

    it(`${guest}: with ecv, EL1TVCT (bit 14)=1 traps vEL1 CNTVCT_EL0 reads`, () => {
      expect(trapped(guest, CNTHCTL_EL1TVCT, { name: 'CNTVCT_EL0', write: false }, true)).toBe(true);
      expect(trapped(guest, 0n, { name: 'CNTVCT_EL0', write: false }, true)).toBe(false);
    });

    it(`${guest}: with ecv, EL1NVPCT (bit 15) and EL1NVVCT (bit 16) trap nothing at vEL1 (they need NV2,NV1,NV = 1,0,1)`, () => {
      const bits = (1n << 15n) | (1n << 16n) | pten | pcten;
      for (const a of [...accesses(PHYS_TIMER), ...accesses(VIRT_TIMER), { name: 'CNTPCT_EL0', write: false }, { name: 'CNTVCT_EL0', write: false }]) {
        expect(trapped(guest, bits, a, true), `${a.write ? 'msr' : 'mrs'} ${a.name}`).toBe(false);
      }
    });

    it(`${guest}: a trapped access has no effect and moves the vCPU to vEL2`, () => {
      const m = mk({ guest, count: 0x1000n });
      wr(m, guest === 'vhe' ? 'CNTP_CVAL_EL02' : 'CNTP_CVAL_EL0', 0x77n);
      run(m, eret);
      expect(m.step(msr('CNTP_CVAL_EL0', 0x1234n))).toMatchObject({ fault: 'trap' });
      // now at vEL2: EL2 names work, exit is invalid, eret is valid
      expect(m.step(mrs('CNTHP_CTL_EL2')).fault).toBeUndefined();
      expect(rd(m, guest === 'vhe' ? 'CNTP_CVAL_EL02' : 'CNTP_CVAL_EL0')).toBe(0x77n);
      expect(() => m.step(exit)).toThrow(InputError);
      expect(() => m.step(eret)).not.toThrow();
    });

    it(`${guest}: a trapped TVAL write does not move CVAL`, () => {
      const m = mk({ guest, count: 0x1000n });
      run(m, eret);
      expect(m.step(msr('CNTP_TVAL_EL0', 0x10n)).fault).toBe('trap');
      expect(rd(m, guest === 'vhe' ? 'CNTP_CVAL_EL02' : 'CNTP_CVAL_EL0')).toBe(0n);
    });
  }
});

// ---------------------------------------------------------------------------------------------
describe('CNTPOFF_EL2 (FEAT_ECV) at vEL1 (facts §1.2, §1.4)', () => {
  for (const guest of ['vhe', 'nvhe'] as const) {
    const open = EL1_PHYS_OPEN[guest];
    const ptimerCval = guest === 'vhe' ? 'CNTP_CVAL_EL02' : 'CNTP_CVAL_EL0';
    const ptimerCtl = guest === 'vhe' ? 'CNTP_CTL_EL02' : 'CNTP_CTL_EL0';

    it(`${guest}: with ecv and CNTHCTL_EL2.ECV=1, CNTPOFF applies to vEL1 CNTPCT, the ptimer TVAL and its condition`, () => {
      const m = mk({ guest, features: ['ecv'], count: 0x1000n, init: { CNTPOFF_EL2: 0x300n, CNTHCTL_EL2: open | CNTHCTL_ECV } });
      wr(m, ptimerCval, 0xd10n);
      expect(wr(m, ptimerCtl, 1n).irq).toBe(0); // 0x1000 - 0x300 = 0xd00 < 0xd10
      run(m, eret);
      expect(rd(m, 'CNTPCT_EL0')).toBe(0xd00n);
      expect(rd(m, 'CNTP_TVAL_EL0')).toBe(0x10n);
      expect(run(m, tick(0xfn)).irq).toBe(0);
      expect(run(m, tick(1n)).irq).toBe(P);
      expect(rd(m, 'CNTP_CTL_EL0')).toBe(5n);
      wr(m, 'CNTP_TVAL_EL0', 0x20n); // count is 0x1010 -> CVAL = 0xd10 + 0x20
      expect(rd(m, 'CNTP_CVAL_EL0')).toBe(0xd30n);
      expect(m.irqMask()).toBe(0);
    });

    it(`${guest}: with ecv and CNTHCTL_EL2.ECV=0, CNTPOFF does not apply at vEL1`, () => {
      const m = mk({ guest, features: ['ecv'], count: 0x1000n, init: { CNTPOFF_EL2: 0x300n, CNTHCTL_EL2: open } });
      wr(m, ptimerCval, 0xd10n);
      expect(wr(m, ptimerCtl, 1n).irq).toBe(P);
      run(m, eret);
      expect(rd(m, 'CNTPCT_EL0')).toBe(0x1000n);
      expect(rd(m, 'CNTP_TVAL_EL0')).toBe(lo32(0xd10n - 0x1000n));
      wr(m, 'CNTP_TVAL_EL0', 0x20n);
      expect(rd(m, 'CNTP_CVAL_EL0')).toBe(0x1020n);
    });

    it(`${guest}: without ecv, CNTHCTL_EL2 bit 12 has no effect on the vEL1 physical counter or timer`, () => {
      const m = mk({ guest, count: 0x1000n, init: { CNTHCTL_EL2: open | CNTHCTL_ECV } });
      wr(m, ptimerCval, 0x1010n);
      wr(m, ptimerCtl, 1n);
      run(m, eret);
      expect(rd(m, 'CNTPCT_EL0')).toBe(0x1000n);
      expect(rd(m, 'CNTP_TVAL_EL0')).toBe(0x10n);
      expect(run(m, tick(0x10n)).irq).toBe(P);
    });

    it(`${guest}: CNTPOFF > count wraps the vEL1 physical count below 0`, () => {
      const m = mk({ guest, features: ['ecv'], count: 0x10n, init: { CNTPOFF_EL2: 0x20n, CNTHCTL_EL2: open | CNTHCTL_ECV } });
      run(m, eret);
      expect(rd(m, 'CNTPCT_EL0')).toBe(M64 - 0x10n);
    });
  }

  it('changing CNTHCTL_EL2.ECV at vEL2 changes the EL1 physical timer condition at once', () => {
    const m = mk({ guest: 'vhe', features: ['ecv'], count: 0x1000n, init: { CNTPOFF_EL2: 0x300n } });
    wr(m, 'CNTP_CVAL_EL02', 0xf00n);
    expect(wr(m, 'CNTP_CTL_EL02', 1n).irq).toBe(P);
    expect(wr(m, 'CNTHCTL_EL2', CNTHCTL_ECV).irq).toBe(0);
    expect(rd(m, 'CNTP_CTL_EL02')).toBe(1n);
    expect(wr(m, 'CNTHCTL_EL2', 0n).irq).toBe(P);
  });
});

// ---------------------------------------------------------------------------------------------
describe('wfi (trace format: idles until a line is asserted or limit counts pass)', () => {
  it('wfi wakes at the earliest asserting line among several armed timers', () => {
    const m = mk({ guest: 'vhe', count: 0x1000n, init: { CNTVOFF_EL2: 0x100n } });
    wr(m, 'CNTHP_CVAL_EL2', 0x1030n);
    wr(m, 'CNTHP_CTL_EL2', 1n);
    wr(m, 'CNTV_CVAL_EL02', 0xf10n); // virtual count 0xf00 -> 0x10 to go
    wr(m, 'CNTV_CTL_EL02', 1n);
    wr(m, 'CNTHV_CVAL_EL2', 0x1020n);
    wr(m, 'CNTHV_CTL_EL2', 1n);
    const e = m.step(wfi(0x1000n));
    expect(e).toMatchObject({ elapsed: 0x10n, irq: V });
    expect(rd(m, 'CNTPCT_EL0')).toBe(0x1010n);
    const e2 = m.step(wfi(0x1000n));
    expect(e2).toMatchObject({ elapsed: 0n, irq: V });
  });

  it('wfi with no line to come returns after exactly limit counts', () => {
    const m = mk({ count: 0x1000n });
    wr(m, 'CNTHP_CVAL_EL2', 0x2000n);
    wr(m, 'CNTHP_CTL_EL2', 1n);
    expect(m.step(wfi(0x80n))).toMatchObject({ elapsed: 0x80n, irq: 0 });
    expect(rd(m, 'CNTPCT_EL0')).toBe(0x1080n);
  });

  it('wfi returns at limit when the line asserts exactly at limit', () => {
    const m = mk({ count: 0x1000n });
    wr(m, 'CNTHP_CVAL_EL2', 0x1080n);
    wr(m, 'CNTHP_CTL_EL2', 1n);
    expect(m.step(wfi(0x80n))).toMatchObject({ elapsed: 0x80n, irq: HP });
  });

  it('wfi elapses 0 when a line is already asserted', () => {
    const m = mk({ count: 0x1000n });
    wr(m, 'CNTHV_CTL_EL2', 1n);
    expect(m.step(wfi(0x80n))).toMatchObject({ elapsed: 0n, irq: HV });
    expect(rd(m, 'CNTPCT_EL0')).toBe(0x1000n);
  });

  it('a masked timer never wakes wfi (ISTATUS becomes 1, the line stays low)', () => {
    const m = mk({ count: 0x1000n });
    wr(m, 'CNTHP_CVAL_EL2', 0x1010n);
    wr(m, 'CNTHP_CTL_EL2', 3n);
    expect(m.step(wfi(0x100n))).toMatchObject({ elapsed: 0x100n, irq: 0 });
    expect(rd(m, 'CNTHP_CTL_EL2')).toBe(7n);
  });

  it('a disabled timer never wakes wfi', () => {
    const m = mk({ count: 0x1000n });
    wr(m, 'CNTHP_CVAL_EL2', 0x1010n);
    wr(m, 'CNTHP_CTL_EL2', 0n);
    expect(m.step(wfi(0x100n))).toMatchObject({ elapsed: 0x100n, irq: 0 });
  });

  it('wfi with limit 0 returns at once', () => {
    const m = mk({ count: 0x1000n });
    wr(m, 'CNTHP_CVAL_EL2', 0x1010n);
    wr(m, 'CNTHP_CTL_EL2', 1n);
    expect(m.step(wfi(0n))).toMatchObject({ elapsed: 0n, irq: 0 });
  });

  it('wfi at vEL1 is woken by the nested guest\'s virtual timer, relative to count - CNTVOFF', () => {
    const m = mk({ guest: 'nvhe', count: 0x5000n, init: { CNTVOFF_EL2: 0x4000n } });
    run(m, eret);
    wr(m, 'CNTV_TVAL_EL0', 0x40n);
    expect(rd(m, 'CNTV_CVAL_EL0')).toBe(0x1040n);
    wr(m, 'CNTV_CTL_EL0', 1n);
    expect(m.step(wfi(0x1000n))).toMatchObject({ elapsed: 0x40n, irq: V });
    expect(rd(m, 'CNTVCT_EL0')).toBe(0x1040n);
  });

  it('wfi wakes when the offset count reaches CVAL while the physical count wraps past 2^64', () => {
    // virtual count = count - CNTVOFF = 4; CVAL 10 -> 6 counts, during which the physical count wraps.
    const m = mk({ guest: 'vhe', count: MASK - 3n, init: { CNTVOFF_EL2: MASK - 7n } });
    wr(m, 'CNTV_CVAL_EL02', 10n);
    wr(m, 'CNTV_CTL_EL02', 1n);
    expect(m.step(wfi(0x100n))).toMatchObject({ elapsed: 6n, irq: V });
    expect(rd(m, 'CNTPCT_EL0')).toBe(2n);
  });

  it('wfi is not woken by a timer whose CVAL is only reached after the counter wraps past 2^64-1', () => {
    const m = mk({ count: 0x10n });
    wr(m, 'CNTHP_CVAL_EL2', MASK);
    wr(m, 'CNTHP_CTL_EL2', 1n);
    expect(m.step(wfi(0x1000n))).toMatchObject({ elapsed: 0x1000n, irq: 0 });
  });
});

// ---------------------------------------------------------------------------------------------
describe('eret / exit validity and EL changes (trace format)', () => {
  it('the vCPU starts at vEL2; eret enters vEL1 and exit returns to vEL2', () => {
    const m = mk();
    expect(m.el).toBe(2);
    expect(m.step(eret).fault).toBeUndefined();
    expect(m.el).toBe(1);
    expect(m.step(mrs('CNTHP_CTL_EL2')).fault).toBe('undefined');
    expect(m.step(exit).fault).toBeUndefined();
    expect(m.el).toBe(2);
    expect(m.step(mrs('CNTHP_CTL_EL2')).fault).toBeUndefined();
  });

  it('eret at vEL1 is an InputError', () => {
    const m = mk();
    m.step(eret);
    expect(() => m.step(eret)).toThrow(InputError);
  });

  it('exit at vEL2 is an InputError', () => {
    const m = mk();
    expect(() => m.step(exit)).toThrow(InputError);
  });

  it('an unknown register name is an InputError', () => {
    const m = mk();
    expect(() => m.step(mrs('CNTX_CTL_EL0'))).toThrow(InputError);
  });

  it('eret and exit report the current interrupt lines', () => {
    const m = mk({ count: 0x10n });
    wr(m, 'CNTHV_CTL_EL2', 1n);
    expect(m.step(eret).irq).toBe(HV);
    expect(m.step(exit).irq).toBe(HV);
  });

  it('timers keep their state across eret/exit; the count does not move', () => {
    const m = mk({ guest: 'nvhe', count: 0x10n, init: { CNTHCTL_EL2: EL1_PHYS_OPEN.nvhe } });
    wr(m, 'CNTP_CVAL_EL0', 0x99n);
    run(m, eret);
    expect(rd(m, 'CNTPCT_EL0')).toBe(0x10n);
    wr(m, 'CNTP_CVAL_EL0', 0x88n);
    run(m, exit);
    expect(rd(m, 'CNTP_CVAL_EL0')).toBe(0x88n);
    expect(rd(m, 'CNTPCT_EL0')).toBe(0x10n);
  });
});
