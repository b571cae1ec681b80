import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { ReferenceModel } from '../../models/reference/reference.js';
import {
  collapseObservations, compareWithModel, decodeResults, disagreement, qemuObservations, rebuildTrace, SAMPLED_TIMERS, XcheckError,
  type QemuOpResult, type LineSample,
} from '../../src/xcheck/index.js';
import type { Op, Trace } from '../../models/arch/vocabulary.js';
import { eret, exit, fakeResult, mrs, msr, tick, trace } from './helpers.js';

/** A QEMU op result at `count` with samples at count+gap, +gap+3, ... */
function res(op: Op['op'], count: bigint, over: Partial<QemuOpResult> = {}, gap = 20n, ctls: bigint[] = [0n, 0n, 0n, 0n]): QemuOpResult {
  const base = over.countAfter ?? count;
  const lines: LineSample[] = SAMPLED_TIMERS.map((timer, i) => ({ timer, ctl: ctls[i]!, count: base + gap + 3n * BigInt(i) }));
  return { op, countAtAccess: count, elBefore: 2, elAfter: 2, lines, ...over };
}

describe('rebuildTrace', () => {
  const t = trace([msr('CNTHP_TVAL_EL2', 0x100n), mrs('CNTHP_CVAL_EL2'), tick(50n), mrs('CNTHP_TVAL_EL2')], { count: 0x5n });
  const r = {
    startCount: 1000n,
    ops: [
      res('msr', 1000n),
      res('mrs', 1100n, { value: 1100n }),
      res('tick', 1200n, { countAfter: 1251n }),
      res('mrs', 1350n, { value: 0n }),
    ],
  };

  it('starts at the real count of op 0 and puts each access at the count it executed at', () => {
    const rb = rebuildTrace(t, r);
    expect(rb.trace.config.count).toBe(1000n);
    let count = rb.trace.config.count;
    const at: bigint[] = [];
    rb.trace.ops.forEach((op, i) => {
      if (op.op === 'tick' || op.op === 'preempt') count += op.by;
      if (rb.opIndex.includes(i)) at.push(count);
    });
    expect(at).toEqual([1000n, 1100n, 1251n, 1350n]);
    expect(rb.opIndex.map((i) => rb.trace.ops[i]!.op)).toEqual(['msr', 'mrs', 'tick', 'mrs']);
    // The original tick becomes the counts that passed from the previous sample to the end of the burn.
    expect(rb.trace.ops[rb.opIndex[2]!]).toEqual({ op: 'tick', by: 1251n - (1100n + 20n + 9n) });
  });

  it('ticks to every line sample, so that sampleIndex names the observation at that count', () => {
    const rb = rebuildTrace(t, r);
    const countAt: bigint[] = [];
    let count = rb.trace.config.count;
    for (const op of rb.trace.ops) {
      if (op.op === 'tick') count += op.by;
      countAt.push(count);
    }
    rb.sampleIndex.forEach((idx, i) => {
      expect(idx.map((k) => countAt[k])).toEqual(r.ops[i]!.lines.map((l) => l.count));
    });
  });

  it('without samples, only the counts between ops become ticks', () => {
    const rb = rebuildTrace(t, r, { samples: false });
    expect(rb.trace.ops).toEqual([
      msr('CNTHP_TVAL_EL2', 0x100n), tick(100n), mrs('CNTHP_CVAL_EL2'), tick(151n), tick(99n), mrs('CNTHP_TVAL_EL2'),
    ]);
    expect(rb.sampleIndex).toEqual(rb.opIndex.map((i) => [i, i, i, i]));
  });

  it('a TVAL write at count c is at c in the rebuilt trace: the reference then reads CVAL = c + TVAL', () => {
    const rb = rebuildTrace(t, r);
    const ref = new ReferenceModel(rb.trace.config);
    const obs = rb.trace.ops.map((op) => ref.step(op));
    expect(obs[rb.opIndex[1]!]!.value).toBe(1000n + 0x100n);
  });

  it('keeps eret/exit at their counts and preempt as preempt', () => {
    const t2 = trace([eret, { op: 'preempt', by: 10n }, exit]);
    const r2 = { startCount: 10n, ops: [res('eret', 10n, { elAfter: 1 }), res('preempt', 40n, { countAfter: 52n }), res('exit', 90n)] };
    const rb = rebuildTrace(t2, r2, { samples: false });
    expect(rb.trace.ops).toEqual([eret, { op: 'preempt', by: 42n }, tick(38n), exit]);
  });

  it('puts a wfi at the count of its WFI and measures the next event from there plus QEMU\'s elapsed', () => {
    const t2 = trace([msr('CNTHP_CVAL_EL2', 0x200n), { op: 'wfi', limit: 0x1000n }, mrs('CNTHP_CTL_EL2')]);
    const r2 = { startCount: 100n, ops: [res('msr', 100n), res('wfi', 300n, { countAfter: 513n, elapsed: 212n, wake: 'line' }, 20n, [5n, 0n, 0n, 0n]), res('mrs', 700n)] };
    const rb = rebuildTrace(t2, r2, { samples: false });
    expect(rb.trace.ops).toEqual([msr('CNTHP_CVAL_EL2', 0x200n), tick(200n), { op: 'wfi', limit: 0x1000n }, tick(700n - 512n), mrs('CNTHP_CTL_EL2')]);
    expect(qemuObservations(r2)[1]).toEqual({ irq: 1, elapsed: 212n });
    expect(disagreement({ irq: 1, elapsed: 211n }, { irq: 1, elapsed: 212n })).toEqual(['elapsed']);
  });

  it('refuses results that do not fit the trace, or counts that go back', () => {
    expect(() => rebuildTrace(t, { startCount: 0n, ops: r.ops.slice(1) })).toThrow(XcheckError);
    expect(() => rebuildTrace(trace([mrs('CNTPCT_EL0')]), { startCount: 0n, ops: [res('msr', 0n)] })).toThrow(/is 'mrs' in the trace/);
    expect(() => rebuildTrace(trace([mrs('CNTPCT_EL0'), mrs('CNTPCT_EL0')]), { startCount: 0n, ops: [res('mrs', 100n), res('mrs', 50n)] })).toThrow(/before the previous event/);
  });

  it('works on what decodeResults returns', () => {
    const t3 = trace([msr('CNTHP_CVAL_EL2', 7n), mrs('CNTHP_CVAL_EL2')]);
    const d = decodeResults(fakeResult([{ count0: 1n, ops: [{ count: 10n }, { count: 50n, value: 7n }] }]), [t3]);
    const rb = rebuildTrace(t3, { startCount: 10n, ops: d.traces[0]!.ops });
    expect(rb.trace.config.count).toBe(10n);
    expect(rb.trace.ops.filter((o) => o.op !== 'tick')).toEqual(t3.ops);
  });

  it('property: every original op lands at its QEMU count, every sample at its count, ticks are never negative', () => {
    const opArb = fc.constantFrom<Op>(msr('CNTV_CVAL_EL02', 3n), mrs('CNTPCT_EL0'), tick(5n), eret, exit, { op: 'preempt', by: 9n });
    fc.assert(fc.property(fc.array(fc.tuple(opArb, fc.bigInt({ min: 1n, max: 500n }), fc.bigInt({ min: 1n, max: 50n })), { maxLength: 30 }), fc.bigInt({ min: 0n, max: 1n << 40n }), (steps, start) => {
      const ops = steps.map(([o]) => o);
      let c = start;
      const results: QemuOpResult[] = steps.map(([o, gap, sgap]) => {
        const at = c + gap;
        const after = o.op === 'tick' || o.op === 'preempt' ? at + 7n : undefined;
        const r0 = res(o.op, at, after !== undefined ? { countAfter: after } : {}, sgap);
        c = r0.lines[3]!.count;
        return r0;
      });
      const startCount = results[0]?.countAtAccess ?? start;
      const rb = rebuildTrace({ config: trace([]).config, ops }, { startCount, ops: results });
      let count = rb.trace.config.count;
      const countAt = rb.trace.ops.map((op) => {
        if (op.op === 'tick' || op.op === 'preempt') {
          expect(op.by >= 0n).toBe(true);
          count += op.by;
        }
        return count;
      });
      results.forEach((r0, i) => {
        expect(countAt[rb.opIndex[i]!]).toBe(r0.countAfter ?? r0.countAtAccess);
        expect(rb.sampleIndex[i]!.map((k) => countAt[k])).toEqual(r0.lines.map((l) => l.count));
      });
    }));
  });
});

describe('observations', () => {
  it('derives each line from CTL (ENABLE and ISTATUS and not IMASK), value only when the access completed', () => {
    const r = { startCount: 0n, ops: [res('mrs', 1n, { value: 9n }, 20n, [5n, 7n, 4n, 1n]), res('mrs', 100n, { fault: 'undefined', faultEl: 2, esr: 0n }, 20n, [0n, 5n, 5n, 5n])] };
    expect(qemuObservations(r)).toEqual([{ irq: 1, value: 9n }, { irq: 0b1110, fault: 'undefined' }]);
  });

  it('collapses the reference observations of a rebuilt trace onto the original ops', () => {
    const t: Trace = trace([msr('CNTHP_CVAL_EL2', 1030n), msr('CNTHP_CTL_EL2', 1n), mrs('CNTHP_CTL_EL2')]);
    // CVAL = 1030: the line rises between the hptimer samples of op 1 (at 1021) and op 2 (at 1061).
    const r = { startCount: 1000n, ops: [res('msr', 1000n, {}, 1n), res('msr', 1020n, {}, 1n), res('mrs', 1060n, { value: 5n }, 1n, [5n, 0n, 0n, 0n])] };
    const rb = rebuildTrace(t, r);
    const ref = new ReferenceModel(rb.trace.config);
    const exp = collapseObservations(rb, rb.trace.ops.map((op) => ref.step(op)));
    expect(exp.map((e) => e.irq)).toEqual([0, 0, 1]);
    expect(exp[2]!.value).toBe(5n);
    const obs = qemuObservations(r);
    exp.forEach((e, i) => expect(disagreement(e, obs[i]!)).toEqual([]));
  });

  it('disagreement compares value outside unknown and names each timer line', () => {
    expect(disagreement({ irq: 0, value: 0xf0n, unknown: 0x0fn }, { irq: 0, value: 0xffn })).toEqual([]);
    expect(disagreement({ irq: 0b0101, value: 1n }, { irq: 0b0011, value: 2n })).toEqual(['value', 'irq.hvtimer', 'irq.ptimer']);
    expect(disagreement({ irq: 0, fault: 'trap' }, { irq: 0 })).toEqual(['fault']);
  });
});

describe('compareWithModel', () => {
  const t: Trace = trace([msr('CNTHP_CVAL_EL2', 1030n), msr('CNTHP_CTL_EL2', 1n), mrs('CNTHP_CTL_EL2')]);
  const ok = { startCount: 1000n, ops: [res('msr', 1000n, {}, 1n), res('msr', 1020n, {}, 1n), res('mrs', 1060n, { value: 5n }, 1n, [5n, 0n, 0n, 0n])] };

  it('runs the model on the rebuilt trace and finds no disagreement when QEMU saw what the model says', () => {
    const c = compareWithModel(t, ok, (config) => new ReferenceModel(config));
    expect(c.first).toBeUndefined();
    expect(c.expected.map((e) => e.irq)).toEqual([0, 0, 1]);
    expect(c.rebuilt.trace.config.count).toBe(1000n);
  });

  it('names the first op and fields that differ', () => {
    const bad = { ...ok, ops: [ok.ops[0]!, ok.ops[1]!, res('mrs', 1060n, { value: 1n }, 1n, [1n, 0n, 0n, 0n])] };
    const c = compareWithModel(t, bad, (config) => new ReferenceModel(config));
    expect(c.first).toEqual({ op: 2, fields: ['value', 'irq.hptimer'] });
  });

  it('reports a model that throws, comparing only the ops it reached', () => {
    const c = compareWithModel(t, ok, () => ({ step: (op) => { if (op.op === 'mrs') throw new Error('boom'); return { irq: 0 }; } }));
    expect(c.modelError).toBe('boom');
    expect(c.expected.length).toBe(2);
  });
});
