/**
 * The cross-check's generation, resolution passes, shrinking and reports (src/xcheck/crosscheck.ts,
 * report.ts, routing.ts) without QEMU: a simulated QEMU (the model of its timers, optionally with a
 * planted bug) stands in for the real one.
 */
import { describe, expect, it } from 'vitest';
import type { Trace } from '../../models/arch/vocabulary.js';
import { decodeToken } from '../../src/trace/token.js';
import { crossCheck, generate, resolveForQemu, type TraceRunner } from '../../src/xcheck/crosscheck.js';
import { DEFAULT_MAX_TICK, type ProbeCellInput, type ProbeOutcome, type QemuOpResult } from '../../src/xcheck/format.js';
import { standardProbeCells } from '../../src/xcheck/probe-cells.js';
import { ALL_BEHAVIOURS } from '../../src/xcheck/qemu-model.js';
import { crossCheckJson, figures, renderCrossCheck, renderRouting } from '../../src/xcheck/report.js';
import { modelRoute, routingRows } from '../../src/xcheck/routing.js';
import { cfg, simulate } from './helpers.js';

const QEMU = { path: '/sim/qemu-system-aarch64', version: 'simulated QEMU', major: 10, minor: 0 };
const sim = (tamper?: (t: Trace, i: number, r: QemuOpResult) => QemuOpResult): TraceRunner =>
  (traces) => Promise.resolve(traces.map((t) => simulate(t, ALL_BEHAVIOURS, t.config.count + 100n, tamper ? (i, r) => tamper(t, i, r) : undefined)));
const withoutPerf = (s: string): string => s.split('\n').filter((l) => !l.startsWith('performance:')).join('\n');

describe('resolveForQemu', () => {
  it('cuts ticks, preempts and wfi limits longer than 2^40 counts, and says how many', () => {
    const r = resolveForQemu(cfg(), [{ k: 'tick', by: 1n << 63n }, { k: 'preempt', by: 5n }, { k: 'wfi', limit: (1n << 64n) - 1n }, { k: 'tick', by: DEFAULT_MAX_TICK }]);
    expect(r.trace.ops).toEqual([{ op: 'tick', by: DEFAULT_MAX_TICK }, { op: 'preempt', by: 5n }, { op: 'wfi', limit: DEFAULT_MAX_TICK }, { op: 'tick', by: DEFAULT_MAX_TICK }]);
    expect(r.transform).toEqual({ longTicks: 1, longWaits: 1 });
  });

  it('cuts a wfit whose deadline is more than 2^40 counts of CNTVCT_EL0 ahead to 2^40 ahead', () => {
    const c = cfg({ features: ['wfxt'], count: 0x1000n, init: { CNTVOFF_EL2: 0x100n } });
    const r = resolveForQemu(c, [{ k: 'wfit', deadline: { k: 'abs', v: 1n << 60n } }, { k: 'eret' }, { k: 'wfit', deadline: { k: 'abs', v: 5n } }]);
    // vhe at vEL2: CNTVCT_EL0 is the physical count.
    expect(r.trace.ops[0]).toEqual({ op: 'wfit', deadline: 0x1000n + DEFAULT_MAX_TICK });
    expect(r.trace.ops[2]).toEqual({ op: 'wfit', deadline: 5n });
    expect(r.transform).toEqual({ longTicks: 0, longWaits: 1 });
  });

  it('generates within what QEMU runs: no HCR_EL2, no absent features, and WFIT only with FEAT_WFxT', () => {
    const items = generate({ runs: 400, seed: 5, maxOps: 40 });
    expect(items.some((it) => it.gen.some((g) => g.k === 'wfit'))).toBe(true);
    for (const it of items) {
      expect(it.config.absent).toBeUndefined();
      expect('HCR_EL2' in it.config.init).toBe(false);
      expect(it.gen.some((g) => (g.k === 'msr' || g.k === 'mrs') && g.reg === 'HCR_EL2')).toBe(false);
      if (!it.config.features.includes('wfxt')) expect(it.gen.some((g) => g.k === 'wfit')).toBe(false);
    }
  });

  it('resolves "now"-relative values at the counts it is given, and drops an exit at vEL2', () => {
    const gen = [{ k: 'msr', reg: 'CNTHP_CVAL_EL2', val: { k: 'now', d: 2n } }, { k: 'exit' }, { k: 'msr', reg: 'CNTHP_CVAL_EL2', val: { k: 'now', d: 0n } }] as const;
    const r = resolveForQemu(cfg({ count: 1000n }), gen, [1100n, 1300n]);
    expect(r.trace.ops).toEqual([{ op: 'msr', reg: 'CNTHP_CVAL_EL2', value: 1102n }, { op: 'msr', reg: 'CNTHP_CVAL_EL2', value: 1300n }]);
    expect(r.kept).toEqual([gen[0], gen[2]]);
  });
});

describe('crossCheck on a simulated QEMU', () => {
  it('with only the known behaviours: passes, every disagreement explained; the same seed gives the same report', async () => {
    const o = { runs: 120, seed: 5, maxOps: 30, runner: sim() };
    const a = await crossCheck(o);
    const f = figures(a);
    expect(f.unexplained).toBe(0);
    expect(f.agree + f.explained).toBe(120);
    expect(f.modelReproduces).toBe(120);
    expect(f.stable).toBe(120);
    expect(a.unexplained).toEqual([]);
    const text = renderCrossCheck(a, QEMU);
    expect(text).toMatch(/^verdict: pass: /m);
    expect(text).toMatch(/^performance: 120 traces, /m);
    expect(withoutPerf(renderCrossCheck(await crossCheck(o), QEMU))).toBe(withoutPerf(text));
    expect(crossCheckJson(a, QEMU)).toMatchObject({ verdict: 'pass', seed: 5, figures: { ran: 120, unexplained: 0 } });
  });

  it('the generator is the check\'s: the same seed gives the same traces', () => {
    expect(generate({ runs: 20, seed: 9, maxOps: 10 })).toEqual(generate({ runs: 20, seed: 9, maxOps: 10 }));
  });

  it('a planted QEMU bug is unexplained, shrunk to a short trace and printed with both sides and a replay token', async () => {
    // The bug: an EL2 virtual timer CVAL read returns the value + 1.
    const buggy = sim((t, i, r) => {
      const op = t.ops[i]!;
      return op.op === 'mrs' && op.reg === 'CNTHV_CVAL_EL2' && r.value !== undefined ? { ...r, value: r.value + 1n } : r;
    });
    const res = await crossCheck({ runs: 150, seed: 1, maxOps: 30, runner: buggy });
    const f = figures(res);
    expect(f.unexplained).toBeGreaterThan(0);
    // The first three are shrunk; the others listed.
    expect(f.unexplained).toBeGreaterThan(3);
    expect(res.unexplained).toHaveLength(3);
    const u = res.unexplained[0]!;
    expect(u.outcome.trace.ops).toEqual([{ op: 'mrs', reg: 'CNTHV_CVAL_EL2' }]);
    expect(u.outcome.trace.config.init).toEqual({});
    expect(u.verdict.unexplained).toMatchObject({ op: 0, fields: ['value'] });
    const text = renderCrossCheck(res, QEMU);
    expect(text).toMatch(/^x unexplained disagreement \(trace #\d+\)$/m);
    expect(text).toMatch(/^  >0 +vEL2 +\+0 +mrs +CNTHV_CVAL_EL2 +value=0x0 irq=\[\] +value=0x1 irq=\[\]/m);
    expect(text).toMatch(/^verdict: FAIL: \d+ unexplained disagreements?$/m);
    expect(text).toMatch(new RegExp(`^${f.unexplained - 3} more traces? with an unexplained disagreement \\(not shrunk\\): #\\d+ op \\d+`, 'm'));
    const token = /replay +nvconform xcheck qemu --replay (nvc1:\S+)/.exec(text)![1]!;
    expect(decodeToken(token).ops).toEqual(u.outcome.trace.ops);
    expect(crossCheckJson(res, QEMU)).toMatchObject({ verdict: 'fail' });
  });
});

describe('the routing table', () => {
  const cells: ProbeCellInput[] = standardProbeCells({ names: ['CNTV_CVAL_EL0', 'CNTPOFF_EL2'] });
  const asModel = (c: ProbeCellInput): ProbeOutcome => {
    const m = modelRoute(c, true);
    switch (m.kind) {
      case 'vncr': return { kind: 'vncr', offset: m.offset };
      case 'trap': return { kind: 'trap', esr: 0x62000000n, ec: 0x18, el: 2 };
      case 'undefined': return { kind: 'undefined', esr: 0n, el: 1 };
      case 'hw': return { kind: 'hw' };
    }
  };

  it('marks agreement per cell, and the ECVEn=0 cells a CPU without FEAT_ECV would route differently', () => {
    const rows = routingRows(cells, cells.map(asModel));
    expect(rows.every((r) => r.agree)).toBe(true);
    const noEcv = rows.filter((r) => r.withoutEcv);
    expect(noEcv.length).toBeGreaterThan(0);
    expect(noEcv.every((r) => !r.cell.ecvEn)).toBe(true);
    // Without FEAT_ECV, CNTPOFF_EL2 does not exist: UNDEFINED rather than its page slot 0x1a8.
    expect(noEcv.find((r) => r.cell.reg === 'CNTPOFF_EL2')?.withoutEcv?.kind).toBe('undefined');
    const text = renderRouting({ rows, ecvEnPairs: rows.length / 2, ecvEnSame: rows.length / 2, ms: 1 }, QEMU);
    expect(text.split('\n').filter((l) => /^CNT/.test(l))).toHaveLength(rows.length);
    expect(text).toMatch(/^verdict: pass: every cell agrees$/m);
  });

  it('a cell where QEMU routes elsewhere is marked NO and fails', () => {
    const outcomes = cells.map(asModel);
    const i = cells.findIndex((c) => c.reg === 'CNTV_CVAL_EL0' && c.nv1 === 1 && c.cnthctl === 0xc00n);
    outcomes[i] = { kind: 'hw' };
    const rows = routingRows(cells, outcomes);
    expect(rows.filter((r) => !r.agree)).toHaveLength(1);
    const text = renderRouting({ rows, ecvEnPairs: 1, ecvEnSame: 1, ms: 1 }, QEMU);
    expect(text).toMatch(/^CNTV_CVAL_EL0 +read +1 +1 +1 +none 0xc00 +0 +hw +vncr 0x168 +NO/m);
    expect(text).toMatch(/^verdict: FAIL: 1 cell differ$/m);
  });
});
