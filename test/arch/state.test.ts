/** Model states are plain records: they clone, restore and hash (the exhaustive search depends on it). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cloneState, sameState, stateKey } from '../../models/arch/state.js';
import { loadLayout } from '../../models/layouts/load.js';
import { Nv2Model } from '../../models/nv2/model.js';
import { ReferenceModel } from '../../models/reference/reference.js';
import type { Op, TraceConfig } from '../../models/arch/vocabulary.js';
import { validTraceArb } from '../support/arbitraries.js';
import { cfg, msr } from '../support/ops.js';

interface Model {
  step(op: Op): unknown;
  key(): string;
}
interface Snapshotting<S> extends Model {
  snapshot(): S;
  restore(s: S): void;
}

const makers: Record<string, (c: TraceConfig) => Snapshotting<unknown>> = {
  reference: (c) => new ReferenceModel(c),
  nv2: (c) => {
    const m = new Nv2Model({ layout: loadLayout('architected') });
    m.reset(c);
    return m;
  },
  'nv2 with ECV traps': (c) => {
    const m = new Nv2Model({ layout: loadLayout('timers-only'), hostEcvTraps: true });
    m.reset(c);
    return m;
  },
};

const show = (x: unknown): string => JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v));

describe('state records', () => {
  it('cloneState copies deeply and stateKey is canonical', () => {
    const s = { a: [1n, 2n], b: { c: true, d: undefined as bigint | undefined }, e: 'x' };
    const c = cloneState(s);
    expect(c).toEqual(s);
    c.a[0] = 9n;
    expect(s.a[0]).toBe(1n);
    expect(stateKey({ x: 1, y: 2 })).toBe(stateKey({ y: 2, x: 1 }));
    expect(sameState(s, c)).toBe(false);
    expect(stateKey([1n])).not.toBe(stateKey([1]));
  });
});

describe.each(Object.keys(makers))('%s', (name) => {
  const make = makers[name]!;

  it('restoring a snapshot replays the rest of the trace identically, and the key is the same at the same state', () => {
    fc.assert(fc.property(validTraceArb, fc.nat(), ({ config, ops }, cut) => {
      const k = cut % (ops.length + 1);
      const m = make(config);
      for (const op of ops.slice(0, k)) m.step(op);
      const snap = m.snapshot();
      const key = m.key();
      const first = ops.slice(k).map((op) => show(m.step(op)));
      m.restore(snap);
      expect(m.key()).toBe(key);
      const again = ops.slice(k).map((op) => show(m.step(op)));
      expect(again).toEqual(first);
      // A snapshot is not changed by running on from it.
      m.restore(snap);
      expect(m.key()).toBe(key);
      // Another instance that ran the same prefix has the same key.
      const n = make(config);
      for (const op of ops.slice(0, k)) n.step(op);
      expect(n.key()).toBe(key);
    }), { seed: 7, numRuns: 150 });
  });

  it('the key changes when the state does', () => {
    const m = make(cfg({ count: 0x10n }));
    const before = m.key();
    m.step(msr('CNTHV_CVAL_EL2', 0x20n));
    expect(m.key()).not.toBe(before);
  });
});
