/**
 * FEAT_NV / FEAT_NV2 routing of EL1 accesses, one test per row of the table in
 * shared/reference/arm-timer-nv2-facts.md §3, calling the pure `route()` directly.
 *
 * NVx = HCR_EL2.{NV2,NV1,NV}. The hardware CNTHCTL_EL2 is in its E2H=1 layout: EL1PCTEN [10],
 * EL1PTEN [11], ECV [12], EL1TVT [13], EL1TVCT [14], EL1NVPCT [15], EL1NVVCT [16].
 */
import { describe, expect, it } from 'vitest';
import { loadLayout } from '../../models/layouts/load.js';
import type { Layout } from '../../models/arch/layout.js';
import { REGISTERS, REGISTER_BY_NAME } from '../../models/arch/registers.js';
import { TIMER_INDEX, type TimerId } from '../../models/arch/timers.js';
import { route, type Route, type RouteContext } from '../../models/nv2/routing.js';

const ARCH = loadLayout('architected');
const TVAL_SLOTS = loadLayout('tval-in-vncr');

const EL1PCTEN = 1n << 10n;
const EL1PTEN = 1n << 11n;
const EL1TVT = 1n << 13n;
const EL1TVCT = 1n << 14n;
const EL1NVPCT = 1n << 15n;
const EL1NVVCT = 1n << 16n;
/** EL1 may use the physical timer and counter: none of the trap bits fires. */
const OPEN = EL1PCTEN | EL1PTEN;

type Nvx = '111' | '101' | 'NV only, NV1=0' | 'NV only, NV1=1' | 'NV=0';
const NVX: Readonly<Record<Nvx, Pick<RouteContext, 'nv' | 'nv2' | 'nv1'>>> = {
  '111': { nv: true, nv2: true, nv1: 1 },
  '101': { nv: true, nv2: true, nv1: 0 },
  'NV only, NV1=0': { nv: true, nv2: false, nv1: 0 },
  'NV only, NV1=1': { nv: true, nv2: false, nv1: 1 },
  'NV=0': { nv: false, nv2: false, nv1: 0 },
};
const ALL_NVX = Object.keys(NVX) as Nvx[];
const NV_ONLY: Nvx[] = ['NV only, NV1=0', 'NV only, NV1=1'];

function ctx(nvx: Nvx, o: { cnthctl?: bigint; physEcv?: boolean; layout?: Layout | undefined } = {}): RouteContext {
  return { ...NVX[nvx], cnthctl: o.cnthctl ?? OPEN, phys: o.physEcv ?? true ? ['ecv', 'ecv-poff', 'vhe', 'wfxt', 'nv2p1'] : ['vhe', 'wfxt', 'nv2p1'], layout: 'layout' in o ? o.layout : ARCH };
}

function row(name: string) {
  const r = REGISTER_BY_NAME.get(name);
  if (!r) throw new Error(`no register ${name}`);
  return r;
}

/** Route both a read and (for a writable register) a write; they must agree, and that route is returned. */
function routeRW(name: string, c: RouteContext): Route {
  const r = row(name);
  const rd = route(r, false, c);
  if (r.access === 'rw') expect(route(r, true, c), `${name}: a write must route like a read`).toEqual(rd);
  return rd;
}

const expectVncr = (name: string, c: RouteContext, offset: number): void => {
  const r = routeRW(name, c);
  expect(r.kind, `${name}`).toBe('vncr');
  if (r.kind === 'vncr') expect(r.offset, `${name}: VNCR offset`).toBe(offset);
};
const expectTrap = (name: string, c: RouteContext, why?: RegExp): void => {
  const r = routeRW(name, c);
  expect(r.kind, `${name}`).toBe('trap');
  if (why && r.kind === 'trap') expect(r.why).toMatch(why);
};
const expectUndef = (name: string, c: RouteContext): void => {
  expect(routeRW(name, c).kind, `${name}`).toBe('undefined');
};
const expectHw = (name: string, c: RouteContext, timer: string, view: string, offset: string): void => {
  const r = routeRW(name, c);
  expect(r, `${name}`).toEqual({ kind: 'hw', meaning: { kind: 'timer', timer, ti: TIMER_INDEX[timer as TimerId], view, offset } });
};

// Every combination of trap bits and of FEAT_ECV present / absent, for "never" / "always" rows.
const ALL_BITS = [0n, OPEN, EL1TVT, EL1TVCT, EL1NVPCT, EL1NVVCT, OPEN | EL1TVT | EL1TVCT | EL1NVPCT | EL1NVVCT, 0x1ffffn];
function everyCtx(nvx: Nvx, layout: Layout = ARCH): RouteContext[] {
  return ALL_BITS.flatMap((cnthctl) => [true, false].map((physEcv) => ctx(nvx, { cnthctl, physEcv, layout })));
}

describe('the architected layout holds the offsets of facts §3 (and HCR_EL2 at 0x78, Arm ARM VNCR page)', () => {
  it('CNTVOFF_EL2 0x60, HCR_EL2 0x78, CNTV_CVAL 0x168, CNTV_CTL 0x170, CNTP_CVAL 0x178, CNTP_CTL 0x180, CNTPOFF_EL2 0x1a8, nothing else', () => {
    expect(Object.fromEntries(ARCH.slots)).toEqual({
      CNTVOFF_EL2: 0x60, HCR_EL2: 0x78, CNTV_CVAL_EL0: 0x168, CNTV_CTL_EL0: 0x170, CNTP_CVAL_EL0: 0x178, CNTP_CTL_EL0: 0x180, CNTPOFF_EL2: 0x1a8,
    });
  });
});

// ---------------------------------------------------------------------------------------------
// CNTV_CTL_EL0 / CNTV_CVAL_EL0
// ---------------------------------------------------------------------------------------------
for (const [name, off, view] of [['CNTV_CTL_EL0', 0x170, 'ctl'], ['CNTV_CVAL_EL0', 0x168, 'cval']] as const) {
  const hex = '0x' + off.toString(16);
  describe(`row ${name}`, () => {
    it(`${name} with NVx=111 and EL1TVT=0 goes to NVMem[${hex}]`, () => {
      expectVncr(name, ctx('111', { physEcv: true }), off);
      expectVncr(name, ctx('111', { physEcv: false }), off);
    });
    it(`${name} with NVx=111 and EL1TVT=1 traps (the trap check precedes the redirect)`, () => {
      expectTrap(name, ctx('111', { cnthctl: OPEN | EL1TVT, physEcv: true }), /EL1TVT/);
    });
    it(`${name} with NVx=111 and EL1TVT=1 but no FEAT_ECV: the bit does not exist, NVMem[${hex}]`, () => {
      expectVncr(name, ctx('111', { cnthctl: OPEN | EL1TVT, physEcv: false }), off);
    });
    it(`${name} with NVx=111: the other trap bits (EL1PTEN=0, EL1NVVCT, EL1NVPCT, EL1TVCT) do not trap it`, () => {
      expectVncr(name, ctx('111', { cnthctl: EL1NVVCT | EL1NVPCT | EL1TVCT, physEcv: true }), off);
    });
    it(`${name} with NVx=101 reaches the hardware ${name} (vtimer, CNTVOFF applies)`, () => {
      expectHw(name, ctx('101'), 'vtimer', view, 'cntvoff');
      expectHw(name, ctx('101', { cnthctl: OPEN | EL1NVVCT | EL1NVPCT }), 'vtimer', view, 'cntvoff');
    });
    it(`${name} with NVx=101 and EL1TVT=1 traps`, () => {
      expectTrap(name, ctx('101', { cnthctl: OPEN | EL1TVT }), /EL1TVT/);
    });
    it(`${name} under NV only has no memory arm: hardware`, () => {
      for (const n of NV_ONLY) expectHw(name, ctx(n), 'vtimer', view, 'cntvoff');
    });
    it(`${name} with NV=0 reaches the hardware (EL1TVT still traps)`, () => {
      expectHw(name, ctx('NV=0'), 'vtimer', view, 'cntvoff');
      expectTrap(name, ctx('NV=0', { cnthctl: OPEN | EL1TVT }), /EL1TVT/);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// CNTP_CTL_EL0 / CNTP_CVAL_EL0
// ---------------------------------------------------------------------------------------------
for (const [name, off, view] of [['CNTP_CTL_EL0', 0x180, 'ctl'], ['CNTP_CVAL_EL0', 0x178, 'cval']] as const) {
  const hex = '0x' + off.toString(16);
  describe(`row ${name}`, () => {
    it(`${name} with NVx=111 and EL1PTEN=1 goes to NVMem[${hex}]`, () => {
      expectVncr(name, ctx('111', { physEcv: true }), off);
      expectVncr(name, ctx('111', { physEcv: false }), off);
    });
    it(`${name} with NVx=111 and EL1PTEN=0 traps (EL1PCEN/EL1PTEN is checked before the redirect)`, () => {
      expectTrap(name, ctx('111', { cnthctl: EL1PCTEN, physEcv: false }), /EL1PTEN/);
      expectTrap(name, ctx('111', { cnthctl: 0n, physEcv: true }), /EL1PTEN/);
    });
    it(`${name} with NVx=111: EL1TVT and EL1NVPCT do not trap it`, () => {
      expectVncr(name, ctx('111', { cnthctl: OPEN | EL1TVT | EL1NVPCT }), off);
    });
    it(`${name} with NVx=101 reaches the hardware ${name} (ptimer, CNTPOFF rule)`, () => {
      expectHw(name, ctx('101'), 'ptimer', view, 'cntpoff');
    });
    it(`${name} with NVx=101 and EL1PTEN=0 traps`, () => {
      expectTrap(name, ctx('101', { cnthctl: EL1PCTEN }), /EL1PTEN/);
    });
    it(`${name} under NV only has no memory arm: hardware, or trap with EL1PTEN=0`, () => {
      for (const n of NV_ONLY) {
        expectHw(name, ctx(n), 'ptimer', view, 'cntpoff');
        expectTrap(name, ctx(n, { cnthctl: 0n }), /EL1PTEN/);
      }
    });
    it(`${name} with NV=0 reaches the hardware`, () => {
      expectHw(name, ctx('NV=0'), 'ptimer', view, 'cntpoff');
    });
  });
}

// ---------------------------------------------------------------------------------------------
// CNTV_TVAL_EL0 / CNTP_TVAL_EL0
// ---------------------------------------------------------------------------------------------
describe('row CNTV_TVAL_EL0 / CNTP_TVAL_EL0', () => {
  it('CNTV_TVAL_EL0 and CNTP_TVAL_EL0 never go to memory (any NVx, any trap bits, ECV or not)', () => {
    for (const n of ALL_NVX) {
      for (const c of everyCtx(n)) {
        expect(routeRW('CNTV_TVAL_EL0', c).kind).not.toBe('vncr');
        expect(routeRW('CNTP_TVAL_EL0', c).kind).not.toBe('vncr');
      }
    }
  });
  it('CNTV_TVAL_EL0 with NVx=111 and NVx=101 reaches the hardware CNTV_TVAL_EL0 with CNTVOFF_EL2', () => {
    expectHw('CNTV_TVAL_EL0', ctx('111'), 'vtimer', 'tval', 'cntvoff');
    expectHw('CNTV_TVAL_EL0', ctx('101'), 'vtimer', 'tval', 'cntvoff');
  });
  it('CNTP_TVAL_EL0 with NVx=111 and NVx=101 reaches the hardware CNTP_TVAL_EL0 with the CNTPOFF rule', () => {
    expectHw('CNTP_TVAL_EL0', ctx('111'), 'ptimer', 'tval', 'cntpoff');
    expectHw('CNTP_TVAL_EL0', ctx('101'), 'ptimer', 'tval', 'cntpoff');
  });
  it('CNTV_TVAL_EL0 with EL1TVT=1 (ECV) traps; CNTP_TVAL_EL0 with EL1PTEN=0 traps (NVx=111 and 101)', () => {
    for (const n of ['111', '101'] as const) {
      expectTrap('CNTV_TVAL_EL0', ctx(n, { cnthctl: OPEN | EL1TVT }), /EL1TVT/);
      expectTrap('CNTP_TVAL_EL0', ctx(n, { cnthctl: EL1PCTEN }), /EL1PTEN/);
    }
  });
  it('CNTV_TVAL_EL0 with EL1TVT=1 but no FEAT_ECV reaches the hardware', () => {
    expectHw('CNTV_TVAL_EL0', ctx('111', { cnthctl: OPEN | EL1TVT, physEcv: false }), 'vtimer', 'tval', 'cntvoff');
  });
});

// ---------------------------------------------------------------------------------------------
// CNTV_{CTL,CVAL}_EL02 and CNTP_{CTL,CVAL}_EL02
// ---------------------------------------------------------------------------------------------
for (const [fam, bit, bitName, other, otherName] of [
  ['CNTV', EL1NVVCT, 'EL1NVVCT', EL1NVPCT, 'EL1NVPCT'],
  ['CNTP', EL1NVPCT, 'EL1NVPCT', EL1NVVCT, 'EL1NVVCT'],
] as const) {
  const offs = fam === 'CNTV' ? { CTL: 0x170, CVAL: 0x168 } : { CTL: 0x180, CVAL: 0x178 };
  describe(`row ${fam}_{CTL,CVAL}_EL02`, () => {
    for (const v of ['CTL', 'CVAL'] as const) {
      const name = `${fam}_${v}_EL02`;
      const off = offs[v];
      const hex = '0x' + off.toString(16);
      it(`${name} with NVx=101 and ${bitName}=0 goes to NVMem[${hex}]`, () => {
        expectVncr(name, ctx('101', { physEcv: true }), off);
        expectVncr(name, ctx('101', { physEcv: false }), off);
      });
      it(`${name} with NVx=101 and ${bitName}=1 (ECV) traps before the redirect`, () => {
        expectTrap(name, ctx('101', { cnthctl: OPEN | bit, physEcv: true }), new RegExp(bitName));
      });
      it(`${name} with NVx=101 and ${bitName}=1 but no FEAT_ECV goes to NVMem[${hex}]`, () => {
        expectVncr(name, ctx('101', { cnthctl: OPEN | bit, physEcv: false }), off);
      });
      it(`${name} with NVx=101: ${otherName}, EL1TVT and EL1PTEN=0 do not trap it`, () => {
        expectVncr(name, ctx('101', { cnthctl: other | EL1TVT | EL1TVCT }), off);
      });
      it(`${name} with NVx=111 traps to EL2 (no memory arm with NV1=1)`, () => {
        for (const c of everyCtx('111')) expectTrap(name, c);
        expectTrap(name, ctx('111'), /HCR_EL2\.NV/);
      });
      it(`${name} under NV only traps`, () => {
        for (const n of NV_ONLY) for (const c of everyCtx(n)) expectTrap(name, c);
      });
      it(`${name} with NV=0 (nested guest) is UNDEFINED`, () => {
        for (const c of everyCtx('NV=0')) expectUndef(name, c);
      });
    }
  });
}

// ---------------------------------------------------------------------------------------------
// CNTV/CNTP_TVAL_EL02
// ---------------------------------------------------------------------------------------------
describe('row CNTV/CNTP_TVAL_EL02', () => {
  for (const name of ['CNTV_TVAL_EL02', 'CNTP_TVAL_EL02']) {
    it(`${name} always traps with NVx=111, NVx=101 and NV only (any trap bits, ECV or not)`, () => {
      for (const n of ['111', '101', ...NV_ONLY] as Nvx[]) for (const c of everyCtx(n)) expectTrap(name, c);
    });
    it(`${name} with NV=0 is UNDEFINED`, () => {
      for (const c of everyCtx('NV=0')) expectUndef(name, c);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// CNTVOFF_EL2, CNTPOFF_EL2
// ---------------------------------------------------------------------------------------------
describe('row CNTVOFF_EL2', () => {
  it('CNTVOFF_EL2 with NVx=111 and NVx=101 goes to NVMem[0x60] (any trap bits, ECV or not)', () => {
    for (const n of ['111', '101'] as const) for (const c of everyCtx(n)) expectVncr('CNTVOFF_EL2', c, 0x60);
  });
  it('CNTVOFF_EL2 under NV only traps', () => {
    for (const n of NV_ONLY) expectTrap('CNTVOFF_EL2', ctx(n), /HCR_EL2\.NV/);
  });
  it('CNTVOFF_EL2 with NV=0 is UNDEFINED', () => {
    expectUndef('CNTVOFF_EL2', ctx('NV=0'));
  });
});

describe('row CNTPOFF_EL2', () => {
  it('CNTPOFF_EL2 with NVx=111 and NVx=101 and FEAT_ECV goes to NVMem[0x1a8]', () => {
    expectVncr('CNTPOFF_EL2', ctx('111', { physEcv: true }), 0x1a8);
    expectVncr('CNTPOFF_EL2', ctx('101', { physEcv: true }), 0x1a8);
  });
  it('CNTPOFF_EL2 without FEAT_ECV is UNDEFINED whatever NVx is', () => {
    for (const n of ALL_NVX) expectUndef('CNTPOFF_EL2', ctx(n, { physEcv: false }));
  });
  it('CNTPOFF_EL2 under NV only (with ECV) traps', () => {
    for (const n of NV_ONLY) expectTrap('CNTPOFF_EL2', ctx(n, { physEcv: true }));
  });
  it('CNTPOFF_EL2 with NV=0 (with ECV) is UNDEFINED', () => {
    expectUndef('CNTPOFF_EL2', ctx('NV=0', { physEcv: true }));
  });
});

// ---------------------------------------------------------------------------------------------
// CNTHCTL_EL2, CNTHP_*_EL2, CNTHV_*_EL2
// ---------------------------------------------------------------------------------------------
describe('row CNTHCTL_EL2, CNTHP_{CTL,CVAL,TVAL}_EL2, CNTHV_*_EL2', () => {
  const names = ['CNTHCTL_EL2', ...['CNTHP', 'CNTHV'].flatMap((f) => ['CTL', 'CVAL', 'TVAL'].map((v) => `${f}_${v}_EL2`))];
  for (const name of names) {
    it(`${name} traps to EL2 with NVx=111, NVx=101 and NV only, never memory`, () => {
      for (const n of ['111', '101', ...NV_ONLY] as Nvx[]) {
        for (const c of [...everyCtx(n), ...everyCtx(n, TVAL_SLOTS)]) expectTrap(name, c, /HCR_EL2\.NV/);
      }
    });
    it(`${name} with NV=0 is UNDEFINED`, () => {
      for (const c of everyCtx('NV=0')) expectUndef(name, c);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Across the table
// ---------------------------------------------------------------------------------------------
describe('across the table', () => {
  it('NV only: no register name goes to memory, whatever the layout', () => {
    for (const n of NV_ONLY) {
      for (const r of REGISTERS) {
        for (const c of [...everyCtx(n, ARCH), ...everyCtx(n, TVAL_SLOTS)]) {
          expect(route(r, false, c).kind, `${r.name} (${n})`).not.toBe('vncr');
          expect(route(r, true, c).kind, `${r.name} (${n})`).not.toBe('vncr');
        }
      }
    }
  });
  it('NV=0 (the nested guest): every EL2 name and every _EL02 alias is UNDEFINED', () => {
    const names = REGISTERS.map((r) => r.name).filter((n) => n.endsWith('_EL2') || n.endsWith('_EL02'));
    expect(names.length).toBeGreaterThanOrEqual(15); // 6 _EL02 aliases, 6 CNTHP/CNTHV views, CNTVOFF, CNTPOFF, CNTHCTL
    for (const name of names) for (const c of everyCtx('NV=0')) expectUndef(name, c);
  });
  it('NVx=101 / 111 without a layout: nothing goes to memory', () => {
    for (const n of ['101', '111'] as const) {
      for (const r of REGISTERS) {
        const c = ctx(n, { layout: undefined });
        expect(route(r, false, c).kind, r.name).not.toBe('vncr');
      }
    }
  });
  it('an MSR to a read-only counter is UNDEFINED before any trap or redirect', () => {
    for (const n of ALL_NVX) {
      expect(route(row('CNTPCT_EL0'), true, ctx(n, { cnthctl: 0n })).kind).toBe('undefined');
      expect(route(row('CNTVCT_EL0'), true, ctx(n, { cnthctl: EL1TVCT })).kind).toBe('undefined');
    }
  });
});

// ---------------------------------------------------------------------------------------------
// A layout with TVAL slots
// ---------------------------------------------------------------------------------------------
describe('layout tval-in-vncr (TVAL slots at 0x1f0 / 0x1f8)', () => {
  it('CNTV_TVAL_EL02 with NVx=101 goes to its slot NVMem[0x1f0]; CNTP_TVAL_EL02 to NVMem[0x1f8]', () => {
    expectVncr('CNTV_TVAL_EL02', ctx('101', { layout: TVAL_SLOTS }), 0x1f0);
    expectVncr('CNTP_TVAL_EL02', ctx('101', { layout: TVAL_SLOTS }), 0x1f8);
  });
  it('CNTV_TVAL_EL0 with NVx=111 goes to its slot NVMem[0x1f0]; CNTP_TVAL_EL0 to NVMem[0x1f8]', () => {
    expectVncr('CNTV_TVAL_EL0', ctx('111', { layout: TVAL_SLOTS }), 0x1f0);
    expectVncr('CNTP_TVAL_EL0', ctx('111', { layout: TVAL_SLOTS }), 0x1f8);
  });
  it('the slot follows the NV1 condition: CNTV_TVAL_EL0 with NVx=101 stays on the hardware, CNTV_TVAL_EL02 with NVx=111 traps', () => {
    expectHw('CNTV_TVAL_EL0', ctx('101', { layout: TVAL_SLOTS }), 'vtimer', 'tval', 'cntvoff');
    expectTrap('CNTV_TVAL_EL02', ctx('111', { layout: TVAL_SLOTS }));
  });
  it('trap bits still come first: CNTV_TVAL_EL0 with NVx=111 and EL1TVT=1, CNTP_TVAL_EL0 with EL1PTEN=0', () => {
    expectTrap('CNTV_TVAL_EL0', ctx('111', { layout: TVAL_SLOTS, cnthctl: OPEN | EL1TVT }), /EL1TVT/);
    expectTrap('CNTP_TVAL_EL0', ctx('111', { layout: TVAL_SLOTS, cnthctl: EL1PCTEN }), /EL1PTEN/);
  });
  it('with no NV2 the TVAL slots are not used', () => {
    expectTrap('CNTV_TVAL_EL02', ctx('NV only, NV1=0', { layout: TVAL_SLOTS }));
    expectHw('CNTV_TVAL_EL0', ctx('NV only, NV1=1', { layout: TVAL_SLOTS }), 'vtimer', 'tval', 'cntvoff');
  });
});
