import { describe, it, expect } from 'vitest';
import {
  encodeBatch, decodeResults, encodeProbe, decodeProbe, unsupportedReason, faultKindOf, cnthctlForE2h0, XcheckError,
  SAMPLED_TIMERS,
} from '../../src/xcheck/index.js';
import { bytesOf, eret, exit, fakeResult, mrs, msr, tick, trace, words } from './helpers.js';

const ENC = (op1: number, crm: number, op2: number): bigint => BigInt((3 << 14) | (op1 << 11) | (14 << 7) | (crm << 3) | op2);

describe('encodeBatch', () => {
  it('lays out the header, the result path, and each trace as [size, flags, n_init, n_ops, start, 0, 0, 0, init pairs, op pairs]', () => {
    const t = trace([msr('CNTV_CVAL_EL02', 0x1234n), mrs('CNTPCT_EL0'), tick(5n), eret, exit], {
      guest: 'vhe', features: ['ecv'], init: { CNTVOFF_EL2: 0x77n },
    });
    const w = words(encodeBatch([t], { resultPath: '/tmp/r.bin' }));
    expect(w[0]).toBe(0x4843544142584e56n);
    expect(w.slice(1, 4)).toEqual([1n, 1n, 1n]);
    expect(w[8]).toBe(1n); // GIC sampling on by default
    expect(w[4]).toBe(BigInt(w.length * 8));
    expect(w[5]).toBe(128n);
    expect(w[6]).toBe(10n);
    const path = new TextDecoder().decode(bytesOf(w.slice(16, 18)).subarray(0, 10));
    expect(path).toBe('/tmp/r.bin');
    const item = Number(w[7]) / 8;
    expect(w[item]).toBe(BigInt((8 + 2 + 10) * 8));
    expect(w.slice(item + 1, item + 8)).toEqual([3n, 1n, 5n, 0n, 0n, 0n, 0n]);
    expect(w.slice(item + 8, item + 10)).toEqual([ENC(4, 0, 3), 0x77n]);
    expect(w.slice(item + 10, item + 20)).toEqual([
      1n | (ENC(5, 3, 2) << 16n), 0x1234n,
      2n | (ENC(3, 0, 1) << 16n), 0n,
      3n, 5n,
      5n, 0n,
      6n, 0n,
    ]);
    expect(item + 20).toBe(w.length);
    const s = words(encodeBatch([t, t], { resultPath: '/r', startAt: (_t, i) => BigInt(i + 1) << 46n }));
    const i0 = Number(s[7]) / 8;
    expect(s[i0 + 4]).toBe(1n << 46n);
    expect(s[i0 + Number(s[i0]) / 8 + 4]).toBe(2n << 46n);
    expect(() => encodeBatch([t], { resultPath: '/r', startAt: () => 1n << 62n })).toThrow(/beyond what QEMU's clock reaches/);
  });

  it('flags nvhe without ecv as 0, and packs several traces back to back', () => {
    const a = trace([mrs('CNTHCTL_EL2')], { guest: 'nvhe' });
    const w = words(encodeBatch([a, a], { resultPath: '/r' }));
    const first = Number(w[7]) / 8;
    expect(w[first + 1]).toBe(0n);
    const second = first + Number(w[first]) / 8;
    expect(w[second + 3]).toBe(1n);
    expect(second + Number(w[second]) / 8).toBe(w.length);
  });

  it('encodes wfi with its limit; refuses long ticks, unknown registers, relative result paths, naming the trace and op', () => {
    const w = words(encodeBatch([trace([{ op: 'wfi', limit: 0x1234n }])], { resultPath: '/r' }));
    expect(w.slice(-2)).toEqual([7n, 0x1234n]);
    expect(() => encodeBatch([trace([mrs('CNTPCT_EL0')]), trace([tick(1n << 41n)])], { resultPath: '/r' }))
      .toThrow(/traces\[1\]: ops\[0\]: tick by 0x20000000000 is longer than the guest burns/);
    expect(() => encodeBatch([trace([tick(1n << 41n)])], { resultPath: '/r', maxTick: 1n << 42n })).not.toThrow();
    expect(() => encodeBatch([trace([tick(1n << 45n)])], { resultPath: '/r', maxTick: 1n << 50n })).toThrow(/limit 0x100000000000 /);
    expect(() => encodeBatch([trace([mrs('CNTKCTL_EL2')])], { resultPath: '/r' })).toThrow(/register 'CNTKCTL_EL2'/);
    expect(() => encodeBatch([], { resultPath: 'r.bin' })).toThrow(XcheckError);
    expect(unsupportedReason(trace([tick(3n), mrs('CNTV_TVAL_EL0'), { op: 'wfi', limit: 1n << 44n }]))).toBeUndefined();
    expect(unsupportedReason(trace([{ op: 'wfi', limit: (1n << 64n) - 1n }]))).toMatch(/ops\[0\]: wfi limit 0xffffffffffffffff is longer/);
  });
});

describe('decodeResults', () => {
  const t = trace([msr('CNTP_CVAL_EL0', 5n), mrs('CNTP_CVAL_EL0'), tick(100n), eret, mrs('CNTPCT_EL0'), mrs('CNTHCTL_EL2')]);
  const bytes = fakeResult([{
    count0: 90n,
    ops: [
      { count: 100n, value: 5n },
      { count: 200n, value: 5n, lines: [[5n, 210n], [0n, 213n], [7n, 216n], [1n, 219n]], gic: (1n << 26n) | (1n << 27n) | (1n << 29n), gicCount: 230n },
      { count: 300n, value: 401n },
      { count: 500n, elAfter: 1 },
      { count: 600n, elBefore: 1, elAfter: 2, fault: (2n << 60n) | 0x6232f801n },
      { count: 700n, fault: (2n << 60n) | 0x2000000n },
    ],
  }]);

  it('reads the header calibration and every op', () => {
    const d = decodeResults(bytes, [t]);
    expect(d.header).toMatchObject({ mode: 1, items: 1, deltaEl2: 1n, deltaEl1: 2n, burn0: 3n, cntfrq: 1000000000n, haveEl3: true, calibrationOk: true, count0: 100n, count1: 200n, warpKp: 40n, warpC0: 1n, warpCimm: 1n, burnMax: 4096n });
    const [o0, o1, o2, o3, o4, o5] = d.traces[0]!.ops;
    expect(o0).toMatchObject({ op: 'msr', countAtAccess: 100n, elBefore: 2, elAfter: 2 });
    expect(o0!.value).toBeUndefined();
    expect(o1!.value).toBe(5n);
    expect(o1!.lines).toEqual(SAMPLED_TIMERS.map((timer, i) => ({ timer, ctl: [5n, 0n, 7n, 1n][i], count: 210n + 3n * BigInt(i) })));
    expect(o1!.gic).toEqual({ mask: 0b1001, count: 230n });
    expect(o0!.gic).toBeUndefined();
    expect(o2).toMatchObject({ op: 'tick', countAtAccess: 300n, countAfter: 401n });
    expect(o3).toMatchObject({ op: 'eret', elAfter: 1 });
    expect(o4).toMatchObject({ fault: 'trap', faultEl: 2, esr: 0x6232f801n, elBefore: 1, elAfter: 2 });
    expect(o4!.value).toBeUndefined();
    expect(o5).toMatchObject({ fault: 'undefined', faultEl: 2, esr: 0x2000000n });
    expect(d.traces[0]!.count0).toBe(90n);
  });

  it('rejects a wrong magic, a truncated file, and a trace/result mismatch', () => {
    const bad = new Uint8Array(bytes);
    bad[0] = 0;
    expect(() => decodeResults(bad)).toThrow(/magic/);
    expect(() => decodeResults(bytes.subarray(0, bytes.length - 8))).toThrow(/says|truncated/);
    expect(() => decodeResults(bytes, [t, t])).toThrow(/1 traces, expected 2/);
    expect(() => decodeResults(bytes, [trace([mrs('CNTPCT_EL0')])])).toThrow(/6 ops/);
  });

  it('decodes a wfi (elapsed = wake - WFI count - warpC0, never negative) and a tick that waited', () => {
    const t2 = trace([{ op: 'wfi', limit: 1000n }, { op: 'wfi', limit: 5n }, tick(100000n)]);
    const b = fakeResult([{ count0: 1n, ops: [
      { count: 100n, value: 372n, info: 1n << 10n }, { count: 500n, value: 500n, info: 2n << 10n }, { count: 600n, value: 100601n, info: 1n << 12n },
    ] }]);
    const [w0, w1, t0] = decodeResults(b, [t2]).traces[0]!.ops;
    expect(w0).toMatchObject({ op: 'wfi', countAtAccess: 100n, countAfter: 372n, elapsed: 271n, wake: 'line' });
    expect(w1).toMatchObject({ elapsed: 0n, wake: 'limit' });
    expect(t0).toMatchObject({ op: 'tick', countAfter: 100601n, waited: true });
  });

  it('encodes wfit as opcode 8 with its deadline, and decodes the wake count the guest reports (elapsed = wake - WFIT count)', () => {
    const t = trace([{ op: 'wfit', deadline: 0xabcdn }, { op: 'wfit', deadline: 0n }, { op: 'wfit', deadline: 7n }], { features: ['wfxt'] });
    const w = words(encodeBatch([t], { resultPath: '/r' }));
    const item = Number(w[7]! / 8n);
    expect(w.slice(item + 8, item + 14)).toEqual([8n, 0xabcdn, 8n, 0n, 8n, 7n]);
    expect(unsupportedReason(t)).toBeUndefined();
    const b = fakeResult([{ count0: 1n, ops: [
      { count: 100n, value: 0xabcdn, info: 2n << 10n }, { count: 200n, value: 199n, info: 2n << 10n }, { count: 300n, value: 400n, info: 1n << 10n },
    ] }]);
    const [a, z, l] = decodeResults(b, [t]).traces[0]!.ops;
    expect(a).toMatchObject({ op: 'wfit', countAtAccess: 100n, countAfter: 0xabcdn, elapsed: 0xabcdn - 100n, wake: 'deadline' });
    expect(z).toMatchObject({ elapsed: 0n, wake: 'deadline' });
    expect(l).toMatchObject({ elapsed: 100n, wake: 'line' });
  });

  it('reports an init write that faulted', () => {
    const b = fakeResult([{ count0: 1n, ops: [], initFault: { index: 0, word: (2n << 60n) | 0x2000000n } }]);
    expect(decodeResults(b).traces[0]!.initFault).toEqual({ index: 0, faultEl: 2, esr: 0x2000000n });
  });
});

describe('faultKindOf', () => {
  it('maps EC 0 to undefined, an EL1 access trapped to EL2 to trap, a trap to EL3 to undefined', () => {
    expect(faultKindOf(1, 0x2000000n, 1)).toBe('undefined');
    expect(faultKindOf(2, 0x2000000n, 2)).toBe('undefined');
    expect(faultKindOf(2, 0x18n << 26n, 1)).toBe('trap');
    expect(faultKindOf(3, 0x18n << 26n, 2)).toBe('undefined');
  });
});

describe('probe format', () => {
  it('encodes a cell and decodes the four outcomes', () => {
    const cells = [
      { reg: 'CNTV_CVAL_EL02', write: true, nv1: 0 as const, cnthctl: 0xc00n, ecvEn: true },
      { reg: 'CNTV_CVAL_EL0', write: false, nv1: 1 as const, cnthctl: 0xc00n, ecvEn: false, hostE2h: false },
      { reg: 'CNTHCTL_EL2', write: false, nv1: 0 as const, cnthctl: 0xc00n, ecvEn: false },
      { reg: 'CNTPCT_EL0', write: false, nv1: 0 as const, cnthctl: 0xc00n, ecvEn: false },
      { reg: 'CNTV_CTL_EL02', write: false, nv1: 0 as const, cnthctl: 0xc00n, ecvEn: false, nv2: false },
    ];
    const w = words(encodeProbe(cells, { resultPath: '/r' }));
    const first = Number(w[7]) / 8;
    expect(w.slice(first, first + 4)).toEqual([ENC(5, 3, 2) | (1n << 16n), 0b110n, 0xc00n, 0n]);
    expect(w.slice(first + 8, first + 12)).toEqual([ENC(3, 3, 2), 0b001n, 0x3n, 0n]);
    expect(w[first + 33]).toBe(0b010n | 8n);
    const none = (1n << 64n) - 1n;
    const res = [
      0x544c534552584e56n, 1n, 2n, 5n, 0n, 1n, 2n, 3n, 0n, 0n, 0n, 1n, 0n, 0n, 1n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n,
      0n, 0xa5a5000000000001n, 0x168n, 0xa5a5000000000001n, 1n, none, 10n, 0n,
      0n, 0x5e5e000100000168n, none, 0n, 0n, 0x168n, 20n, 0n,
      (2n << 60n) | (0x18n << 26n), 0n, none, 0n, 0n, none, 30n, 0n,
      0n, 0x1234n, none, 0n, 0n, none, 40n, 0n,
      (1n << 60n) | 0x2000000n, 0n, none, 0n, 0n, none, 50n, 0n,
    ];
    res[4] = BigInt(res.length * 8);
    const d = decodeProbe(bytesOf(res), cells);
    expect(d.cells.map((c) => c.outcome.kind)).toEqual(['vncr', 'vncr', 'trap', 'hw', 'undefined']);
    expect(d.cells[0]!.outcome).toEqual({ kind: 'vncr', offset: 0x168 });
    expect(d.cells[1]!.outcome).toEqual({ kind: 'vncr', offset: 0x168 });
    expect(d.cells[2]!.outcome).toMatchObject({ kind: 'trap', ec: 0x18, el: 2 });
    expect(d.cells[3]!.outcome).toEqual({ kind: 'hw', value: 0x1234n });
    expect(d.cells[4]!.outcome).toMatchObject({ kind: 'undefined', el: 1 });
  });

  it('converts CNTHCTL_EL2 from the E2H=1 to the E2H=0 layout', () => {
    expect(cnthctlForE2h0(0xc00n)).toBe(0x3n);
    expect(cnthctlForE2h0(0x400n)).toBe(0x1n);
    expect(cnthctlForE2h0(0x800n | 0x2000n | 0x3n)).toBe(0x2n | 0x2000n);
    expect(cnthctlForE2h0(0xf4n)).toBe(0xf4n);
  });
});
