/** A host model whose software timer never moves forward is reported, not left to spin. */
import { describe, expect, it } from 'vitest';
import { Nv2Model } from '../../models/nv2/model.js';
import { loadLayout } from '../../models/layouts/load.js';
import { ImplementationError } from '../../models/arch/errors.js';
import { check, DEFAULT_CHECK_OPTIONS } from '../../src/check/check.js';
import { withBuiltins } from '../../src/engine/registry.js';

/** Re-arms every software timer for the current count: the classic "deadline already passed" bug. */
const spinner = (layout = loadLayout('architected')): Nv2Model =>
  new Nv2Model({ layout, hooks: { softDeadline: (m, t) => ((t.ctl & 1n) !== 0n ? m.state.count : undefined) } });

describe('a spinning host', () => {
  it('raises an ImplementationError naming the tick instead of looping', () => {
    const m = spinner();
    m.reset({ guest: 'vhe', features: [], count: 0n, init: {} });
    m.step({ op: 'msr', reg: 'CNTV_CTL_EL02', value: 1n });
    m.step({ op: 'mrs', reg: 'CNTV_TVAL_EL02' }); // a trap: the host arms its software timer
    expect(() => m.step({ op: 'tick', by: 5n })).toThrow(ImplementationError);
  });

  it('is reported by check as a failure of the implementation, with a trace', async () => {
    const registry = withBuiltins([['test-spinner', (o) => spinner(o.layout)]]);
    // A virtual CPU with ECV: no CNTPOFF_EL2 served from the page ahead of the spin.
    const r = await check({ ...DEFAULT_CHECK_OPTIONS, impl: 'test-spinner', registry, guest: 'vhe', ecv: true, properties: ['deferred'], runs: 100 });
    const p = r.results[0]!;
    expect(p.verdict).toBe('fail');
    expect(p.explanation).toMatch(/software timer firings within one tick/);
    expect(p.counterexample!.ops.length).toBeGreaterThan(0);
  });
});
