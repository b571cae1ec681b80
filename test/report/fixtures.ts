/**
 * Hand-built documents for the HTML report's tests. The two counterexamples are real: their
 * traces, observations, hardware lines and explanations are what `nvconform replay` prints for
 * them today (the tokens replay them), written out by hand as a TimelineDoc. `longDoc` is a
 * synthetic trace of any length from a tiny timer model, for layout and speed checks only.
 */
import type { LayoutsDoc, TimelineDoc, TimelineOp } from '../../src/report/html/types.js';

const VHE_MAP = 'vtimer: soft (page CTL,CVAL); ptimer: soft (page CTL,CVAL); hvtimer: hw vtimer; hptimer: hw ptimer';

const ARCHITECTED_SLOTS = [
  { offset: 0x60, key: 'CNTVOFF_EL2' },
  { offset: 0x168, key: 'CNTV_CVAL_EL0' },
  { offset: 0x170, key: 'CNTV_CTL_EL0' },
  { offset: 0x178, key: 'CNTP_CVAL_EL0' },
  { offset: 0x180, key: 'CNTP_CTL_EL0' },
  { offset: 0x1a8, key: 'CNTPOFF_EL2' },
];

type State = TimelineOp['timerState'][number];
const vt = (s: Partial<State>): State => ({ timer: 'vtimer', enable: false, imask: false, cval: '0x0', offset: '0x0', conditionMet: false, ...s });

/** The TVAL-slot bug: a TVAL write lands in page slot 0x1f0, so the CVAL read back is stale. */
export const TVAL_SLOT_TOKEN =
  'nvc1:Vc7NCsIwEATgd5lzhOJxbyK9FU-lF5ES0q0KaRM2P1hK3l0iKHgevpnZYUA77olDBCE_GAoz65iEA-h6UzAurTVrXg2KggNddzgPwhIECsJ3EM6Xfhj74dSNbdccoZC1TfxhRxT1FRL-xfknyk3hVb88F29BWHNtsXpzqa7HrO3huR7yaurow4XYmtyL9gE0axtYwYvzLHEDYeKZRXhCKW8';

export const TVAL_SLOT_EXPLANATION =
  'op #1 `mrs CNTV_CVAL_EL02` at vEL2, served from VNCR slot 0x168, gave value 0x0 where the architecture gives 0x2 (vtimer: ENABLE=0 IMASK=0 CVAL=0x2 count=0x0); register values are exact under the deferred contract too';

export function tvalSlotDoc(): TimelineDoc {
  return {
    title: 'deferred: FAIL — layout tval-in-vncr, guest vhe',
    subtitle: 'nv2, layout tval-in-vncr, host-ecv-traps off',
    config: { guest: 'vhe', features: [], count: '0x0', init: {} },
    property: 'deferred',
    verdict: 'fail',
    explanation: TVAL_SLOT_EXPLANATION,
    divergentOp: 1,
    token: TVAL_SLOT_TOKEN,
    seed: 42,
    timers: ['vtimer'],
    slots: [...ARCHITECTED_SLOTS, { offset: 0x1f0, key: 'CNTV_TVAL_EL0' }, { offset: 0x1f8, key: 'CNTP_TVAL_EL0' }],
    ops: [
      {
        index: 0,
        el: 2,
        elAfter: 2,
        text: 'msr CNTV_TVAL_EL02, 0x2',
        op: { op: 'msr', reg: 'CNTV_TVAL_EL02', value: '0x2' },
        countBefore: '0x0',
        countAfter: '0x0',
        expected: { irq: [] },
        observed: { irq: [] },
        hardware: ['store VNCR[0x1f0] (CNTV_TVAL_EL0)'],
        route: 'vncr',
        timerMap: VHE_MAP,
        vncr: [{ offset: 0x1f0, key: 'CNTV_TVAL_EL0', before: '0x0', after: '0x2' }],
        timerState: [vt({ cval: '0x2' })],
      },
      {
        index: 1,
        el: 2,
        elAfter: 2,
        text: 'mrs CNTV_CVAL_EL02',
        op: { op: 'mrs', reg: 'CNTV_CVAL_EL02' },
        countBefore: '0x0',
        countAfter: '0x0',
        expected: { irq: [], value: '0x2' },
        observed: { irq: [], value: '0x0' },
        hardware: ['load VNCR[0x168] (CNTV_CVAL_EL0)'],
        route: 'vncr',
        timerMap: VHE_MAP,
        vncr: [],
        timerState: [vt({ cval: '0x2' })],
      },
    ],
  };
}

/** The line lag: CVAL and CTL go to the page, time passes, and no timer was armed. */
export const LINE_LAG_TOKEN =
  'nvc1:dc47C8IwGIXh_3Lmb0gds0lxK07FRaTE-PWC0YTcsJT-d4kIOuj8ngfOAg25YEgcIiTyyCD0rGLyHCCPJ4K26V6aeFRCCKwEC3lcYB0kbsGD4HmARL1vD1192DbdrhEbELIyid-yKvIvan-ZD4iTvoJwnl9hI7CeCI9yfLo5A4l7Ltao2aZyVXk9TpF15AsIow1xp3PrlQuQvTKBCc5bxz7O3-vklcG6PgE';

export const LINE_LAG_EXPLANATION =
  'op #2 `tick 0x20` at vEL2 gave the vtimer line low where the architecture has it asserted (vtimer: ENABLE=1 IMASK=0 CVAL=0x1010 count=0x1020)';

export function lineLagDoc(): TimelineDoc {
  return {
    title: 'architectural: FAIL — layout architected, guest vhe',
    subtitle: 'nv2, layout architected, host-ecv-traps off',
    config: { guest: 'vhe', features: [], count: '0x1000', init: {} },
    property: 'architectural',
    verdict: 'fail',
    explanation: LINE_LAG_EXPLANATION,
    divergentOp: 2,
    token: LINE_LAG_TOKEN,
    timers: ['vtimer'],
    slots: ARCHITECTED_SLOTS,
    ops: [
      {
        index: 0,
        el: 2,
        elAfter: 2,
        text: 'msr CNTV_CVAL_EL02, 0x1010',
        op: { op: 'msr', reg: 'CNTV_CVAL_EL02', value: '0x1010' },
        countBefore: '0x1000',
        countAfter: '0x1000',
        expected: { irq: [] },
        observed: { irq: [] },
        hardware: ['store VNCR[0x168] (CNTV_CVAL_EL0)'],
        route: 'vncr',
        timerMap: VHE_MAP,
        vncr: [{ offset: 0x168, key: 'CNTV_CVAL_EL0', before: '0x0', after: '0x1010' }],
        timerState: [vt({ cval: '0x1010' })],
      },
      {
        index: 1,
        el: 2,
        elAfter: 2,
        text: 'msr CNTV_CTL_EL02, 0x1',
        op: { op: 'msr', reg: 'CNTV_CTL_EL02', value: '0x1' },
        countBefore: '0x1000',
        countAfter: '0x1000',
        expected: { irq: [] },
        observed: { irq: [] },
        hardware: ['store VNCR[0x170] (CNTV_CTL_EL0)'],
        route: 'vncr',
        timerMap: VHE_MAP,
        vncr: [{ offset: 0x170, key: 'CNTV_CTL_EL0', before: '0x0', after: '0x1' }],
        timerState: [vt({ cval: '0x1010', enable: true })],
      },
      {
        index: 2,
        el: 2,
        elAfter: 2,
        text: 'tick 0x20',
        op: { op: 'tick', by: '0x20' },
        countBefore: '0x1000',
        countAfter: '0x1020',
        expected: { irq: ['vtimer'] },
        observed: { irq: [] },
        hardware: [],
        timerMap: VHE_MAP,
        vncr: [],
        timerState: [vt({ cval: '0x1010', enable: true, conditionMet: true })],
      },
    ],
  };
}

const M64 = (1n << 64n) - 1n;
const hx = (v: bigint): string => '0x' + (v & M64).toString(16);

/**
 * A synthetic trace of `n` ops (vhe, architected layout) from a tiny model of three timers: the
 * page-held vtimer/ptimer lines observed lag their page writes until the next host entry (the
 * deferred contract's allowance), a 2^63 tick, eret/exit, wfi; op n-2 is made to read a wrong
 * value and is the divergent op. Deterministic; not an architectural reference.
 */
export function longDoc(n: number): TimelineDoc {
  type T = { enable: boolean; imask: boolean; cval: bigint };
  const names = ['vtimer', 'ptimer', 'hvtimer'] as const;
  const cur: Record<string, T> = { vtimer: { enable: false, imask: false, cval: 0n }, ptimer: { enable: false, imask: false, cval: 0n }, hvtimer: { enable: false, imask: false, cval: 0n } };
  let seen: Record<string, T> = structuredClone(cur); // what the host last saw (page-held timers)
  const page = new Map<number, bigint>([[0x168, 0n], [0x170, 0n], [0x178, 0n], [0x180, 0n]]);
  let count = 0xffffffffffffff00n;
  let el: 1 | 2 = 2;
  let seed = 7;
  const rnd = (k: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % k;
  };
  const met = (t: T): boolean => ((count - t.cval) & M64) < 1n << 63n;
  const line = (t: T): boolean => t.enable && !t.imask && met(t);
  const script = ['cvalV', 'ctlV', 'tick', 'readCtlV', 'cvalP', 'ctlP', 'tvalV', 'eret', 'tick', 'exit', 'hv', 'big', 'wfi', 'preempt', 'readCtlP'];
  const ops: TimelineOp[] = [];
  for (let i = 0; i < n; i++) {
    let kind = script[i % script.length]!;
    if (el === 1 && !['tick', 'exit', 'wfi'].includes(kind)) kind = 'exit';
    if (el === 2 && kind === 'exit') kind = 'tick';
    if (i === n - 2) kind = 'readCtlV';
    const before = count;
    const elBefore = el;
    let text = '';
    let op: Record<string, string> = {};
    let route: TimelineOp['route'];
    const hardware: string[] = [];
    const vncr: { offset: number; key: string; before: string; after: string }[] = [];
    const exp: Record<string, unknown> = {};
    const obs: Record<string, unknown> = {};
    let sync = false;
    const store = (off: number, key: string, v: bigint): void => {
      const b = page.get(off) ?? 0n;
      if (b !== v) vncr.push({ offset: off, key, before: hx(b), after: hx(v) });
      page.set(off, v);
    };
    const msr = (reg: string, v: bigint): void => {
      text = `msr ${reg}, ${hx(v)}`;
      op = { op: 'msr', reg, value: hx(v) };
    };
    switch (kind) {
      case 'cvalV':
      case 'cvalP': {
        const t = kind === 'cvalV' ? 'vtimer' : 'ptimer';
        const v = (count + BigInt(0x10 + rnd(0x40))) & M64;
        msr(kind === 'cvalV' ? 'CNTV_CVAL_EL02' : 'CNTP_CVAL_EL02', v);
        cur[t]!.cval = v;
        route = 'vncr';
        const off = t === 'vtimer' ? 0x168 : 0x178;
        const key = t === 'vtimer' ? 'CNTV_CVAL_EL0' : 'CNTP_CVAL_EL0';
        hardware.push(`store VNCR[${hx(BigInt(off))}] (${key})`);
        store(off, key, v);
        break;
      }
      case 'ctlV':
      case 'ctlP': {
        const t = kind === 'ctlV' ? 'vtimer' : 'ptimer';
        msr(kind === 'ctlV' ? 'CNTV_CTL_EL02' : 'CNTP_CTL_EL02', 1n);
        cur[t]!.enable = true;
        cur[t]!.imask = false;
        route = 'vncr';
        const off = t === 'vtimer' ? 0x170 : 0x180;
        const key = t === 'vtimer' ? 'CNTV_CTL_EL0' : 'CNTP_CTL_EL0';
        hardware.push(`store VNCR[${hx(BigInt(off))}] (${key})`);
        store(off, key, 1n);
        break;
      }
      case 'readCtlV':
      case 'readCtlP': {
        const t = kind === 'readCtlV' ? 'vtimer' : 'ptimer';
        const reg = kind === 'readCtlV' ? 'CNTV_CTL_EL02' : 'CNTP_CTL_EL02';
        const off = t === 'vtimer' ? 0x170 : 0x180;
        text = `mrs ${reg}`;
        op = { op: 'mrs', reg };
        route = 'vncr';
        hardware.push(`load VNCR[${hx(BigInt(off))}] (${reg.replace('_EL02', '_EL0')})`);
        const s = cur[t]!;
        exp['value'] = hx((s.enable ? 1n : 0n) | (s.imask ? 2n : 0n) | (s.enable && met(s) ? 4n : 0n));
        if (!s.enable) exp['unknown'] = '0x4';
        obs['value'] = i === n - 2 ? hx((page.get(off) ?? 0n) ^ 1n) : hx(page.get(off) ?? 0n);
        break;
      }
      case 'tvalV': {
        const v = BigInt(0x20 + rnd(0x20));
        msr('CNTV_TVAL_EL02', v);
        cur['vtimer']!.cval = (count + v) & M64;
        route = 'trap';
        hardware.push('trap to host (HCR_EL2.NV)');
        store(0x168, 'CNTV_CVAL_EL0', cur['vtimer']!.cval);
        sync = true;
        break;
      }
      case 'hv': {
        const v = (count + 0x8n) & M64;
        msr('CNTV_CVAL_EL0', v);
        cur['hvtimer']!.cval = v;
        cur['hvtimer']!.enable = true;
        route = 'hw';
        hardware.push('write CNTV_CVAL_EL0 (hardware vtimer, holding hvtimer)');
        break;
      }
      case 'tick':
      case 'big':
      case 'preempt': {
        const by = kind === 'big' ? 1n << 63n : BigInt(1 + rnd(0x30));
        text = `${kind === 'preempt' ? 'preempt' : 'tick'} ${hx(by)}`;
        op = { op: kind === 'preempt' ? 'preempt' : 'tick', by: hx(by) };
        count = (count + by) & M64;
        if (kind === 'preempt') {
          hardware.push('host: vCPU descheduled and resumed');
          sync = true;
        }
        break;
      }
      case 'wfi': {
        const limit = 0x40n;
        text = `wfi ${hx(limit)}`;
        op = { op: 'wfi', limit: hx(limit) };
        count = (count + limit) & M64;
        exp['elapsed'] = hx(limit);
        obs['elapsed'] = hx(limit);
        hardware.push('trap to host (WFI)', 'host: vCPU blocked until its next timer event');
        sync = true;
        break;
      }
      case 'eret':
        text = 'eret';
        op = { op: 'eret' };
        el = 1;
        hardware.push('trap to host (ERET)', 'host: load the nested guest’s EL1 timers');
        sync = true;
        break;
      case 'exit':
        text = 'exit';
        op = { op: 'exit' };
        el = 2;
        hardware.push('host: exit to the guest hypervisor, timers back to emulation');
        sync = true;
        break;
    }
    if (sync) {
      seen = structuredClone(cur);
      for (const [t, off, key] of [['vtimer', 0x170, 'CNTV_CTL_EL0'], ['ptimer', 0x180, 'CNTP_CTL_EL0']] as const) {
        const s = cur[t]!;
        store(off, key, (s.enable ? 1n : 0n) | (s.imask ? 2n : 0n) | (s.enable && met(s) ? 4n : 0n));
      }
    }
    exp['irq'] = names.filter((t) => line(cur[t]!)).sort();
    obs['irq'] = names.filter((t) => (t === 'hvtimer' || el === 1 ? line(cur[t]!) : line(seen[t]!))).sort();
    ops.push({
      index: i,
      el: elBefore,
      elAfter: el,
      text,
      op,
      countBefore: hx(before),
      countAfter: hx(count),
      expected: exp,
      observed: obs,
      hardware,
      ...(route ? { route } : {}),
      timerMap: el === 1 ? 'vtimer: hw vtimer; ptimer: hw ptimer; hvtimer: soft; hptimer: soft' : VHE_MAP,
      vncr,
      timerState: names.map((t) => ({ timer: t, enable: cur[t]!.enable, imask: cur[t]!.imask, cval: hx(cur[t]!.cval), offset: '0x0', conditionMet: met(cur[t]!) })),
    });
  }
  return {
    title: `deferred: FAIL — synthetic ${n}-op trace, layout architected, guest vhe`,
    subtitle: 'nv2, layout architected, host-ecv-traps off (synthetic data for layout tests)',
    config: { guest: 'vhe', features: [], count: hx(0xffffffffffffff00n), init: { CNTVOFF_EL2: '0x0' } },
    property: 'deferred',
    verdict: 'fail',
    explanation: `op #${n - 2} read a CTL value that is neither the one written nor the one the host published (synthetic)`,
    divergentOp: n - 2,
    token: LINE_LAG_TOKEN,
    seed: 42,
    timers: ['hvtimer', 'ptimer', 'vtimer'],
    slots: ARCHITECTED_SLOTS,
    ops,
  };
}

/** A verdict table like `nvconform layouts`, with two rows carrying their counterexamples. */
export function layoutsDoc(): LayoutsDoc {
  const columns = ['layout', 'guest', 'architectural', 'deferred', 'counterexample', 'linux', 'tval', 'random'];
  return {
    title: 'nvconform layouts: the built-in NV2 host',
    columns,
    rows: [
      { cells: ['architected', 'vhe', 'fail', 'pass', '3 ops', '1', '112', '319'], counterexample: lineLagDoc() },
      { cells: ['offsets-only', 'vhe', 'pass', 'pass', '-', '625', '667', '570'] },
      { cells: ['trap-all', 'vhe', 'pass', 'pass', '-', '688', '723', '636'] },
      { cells: ['tval-in-vncr', 'vhe', 'fail', 'fail', '2 ops', '1', '1', '251'], counterexample: tvalSlotDoc() },
    ],
    note: 'cost: traps per 1000 guest-hypervisor timer register accesses on the workloads linux, tval, random',
  };
}
