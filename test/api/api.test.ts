/**
 * The library API in process (src/api, src/vitest.ts): defaults, plain-data results, an
 * Implementation object next to a spec, replay's refusal to run what a token names, run,
 * layouts, and expectConformant's pass and failure.
 */
import { describe, expect, it, vi } from 'vitest';
import { join } from 'node:path';
import { check, InputError, layouts, models, properties, replay, run, type Implementation, type Observation } from '../../src/api/index.js';
import { PROPERTY_NAMES } from '../../properties/index.js';
import { encodeToken } from '../../src/trace/token.js';
import { ConformanceError, expectConformant } from '../../src/vitest.js';

const ROOT = join(import.meta.dirname, '..', '..');
/**
 * A physical CPU without FEAT_ECV: the built-in host is then exact for a VHE guest hypervisor
 * with the architected layout (on a CPU with ECV, CNTPOFF_EL2 is served from the page for a
 * virtual CPU without it, which the default suite shows).
 */
const NO_ECV = { cpu: ['vhe', 'wfxt', 'nv2p1'] } as const;
const TVAL = { layout: 'tval-in-vncr', guest: 'vhe', property: 'deferred', host: NO_ECV } as const;
const PASS = { property: 'deferred', guest: 'vhe', host: NO_ECV } as const;
/** TVAL for an Implementation object, which is made with its host. */
const OBJ_TVAL = { layout: 'tval-in-vncr', guest: 'vhe', property: 'deferred' } as const;

/** Every value reachable from `x` is JSON data: plain objects, arrays, strings, finite numbers, booleans, null. */
function plainProblems(x: unknown, path = '$'): string[] {
  if (x === null || typeof x === 'string' || typeof x === 'boolean') return [];
  if (typeof x === 'number') return Number.isFinite(x) ? [] : [`${path}: ${x}`];
  if (Array.isArray(x)) return x.flatMap((v, i) => plainProblems(v, `${path}[${i}]`));
  if (typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) return Object.entries(x).flatMap(([k, v]) => plainProblems(v, `${path}.${k}`));
  return [`${path}: ${typeof x} ${Object.prototype.toString.call(x)}`];
}

describe('check', () => {
  it('takes the documented defaults', async () => {
    const r = await check({ property: 'deferred', guest: 'vhe', runs: 20 });
    expect(r.options).toEqual({ impl: 'nv2', layout: 'architected', hostEcvTraps: false, host: null, guest: 'vhe', ecv: null, runs: 20, maxOps: 40, seed: 42, properties: ['deferred'], exclude: [] });
    expect((await check({ ...PASS, runs: 20 })).options.host).toEqual({ cpu: ['vhe', 'wfxt', 'nv2p1'] });
    const all = await check({ guest: 'vhe', runs: 5, maxOps: 5, depth: 0 });
    expect(all.options.properties).toEqual([...PROPERTY_NAMES]);
    expect(all.options.runs).toBe(5);
  });

  it('returns plain data: the counterexample, its token, the scope and the text report', async () => {
    const r = await check(TVAL);
    expect(plainProblems(r)).toEqual([]);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    const p = r.results[0]!;
    expect(r.verdict).toBe('fail');
    expect(p.token).toMatch(/^nvc1:/);
    expect(p.counterexample!.trace.format).toBe('nvconform-trace/1');
    expect(p.counterexample!.steps.map((s) => s.text)).toEqual(['msr CNTV_TVAL_EL02, 0x1', 'mrs CNTV_CVAL_EL02']);
    expect(p.counterexample!.divergentOp).toBe(1);
    expect(p.counterexample!.steps[1]).toMatchObject({ expected: { irq: [], value: '0x1' }, observed: { irq: [], value: '0x0' }, hardware: ['load VNCR[0x168] (CNTV_CVAL_EL0)'] });
    expect(p.scope).toMatch(/^found in the exhaustive phase, after every trace of ≤ 1 op over nvconform-alphabet\/\d/);
    expect(p.text).toContain(`replay   nvconform replay ${p.token}`);
    expect(r.text).toContain(p.text);
    expect(r.text).toMatch(/performance: .* ms: /);
    expect(r.layout.slots.CNTV_TVAL_EL0).toBe(0x1f0);
  });

  it('without timing, the same text for the same seed', async () => {
    const a = await check({ ...TVAL, property: undefined, properties: ['architectural', 'deferred'], timing: false });
    const b = await check({ ...TVAL, property: undefined, properties: ['architectural', 'deferred'], timing: false });
    expect(a.text).toBe(b.text);
    expect(a.text).not.toMatch(/\bms\b|\/s\b/);
    expect(a.text).toMatch(/^performance: \d+ traces, \d+ ops stepped on both models$/m);
  });

  it('an in-repo pass states its scope', async () => {
    const r = await check({ ...PASS, runs: 50 });
    expect(r.verdict).toBe('pass');
    expect(r.results[0]!.scope).toMatch(/^no counterexample among every trace of ≤ 2 ops over .*; then \d+ directed traces? and \d+ random traces$/);
  });

  it.each([
    [{ runs: 0 }, 'check: options.runs: expected a positive integer, got 0'],
    [{ seed: 1.5 }, 'check: options.seed: expected an integer, got 1.5'],
    [{ property: 'deferred', properties: ['deferred'] }, 'check: options.property and options.properties: give one'],
    [{ property: 'nope' }, 'check: unknown property "nope" (known: architectural, deferred, cval-tval, no-tval-in-vncr, vncr-verbatim)'],
    [{ guest: 'both' }, "check: options.guest: expected 'vhe' or 'nvhe', got \"both\""],
    [{ layout: 'no-such-layout' }, /no layout named 'no-such-layout'/],
    [{ layout: { name: 'bad', slots: { CNTV_TVAL_EL0: 0x1f1 } } }, /^check: options\.layout: slots\[0\]\.offset: 497 \(0x1f1\) is not 8-byte aligned$/],
    [{ impl: { name: 'half' } }, 'check: options.impl: expected a spec string or an object with reset() and step() (the Implementation interface)'],
  ])('rejects bad options with a one-line InputError: %j', async (opts, message) => {
    const p = check(opts as never);
    await expect(p).rejects.toBeInstanceOf(InputError);
    await expect(p).rejects.toThrow(message);
  });
});

/** The built-in model behind an object of the caller's own, optionally changed. */
function wrapped(name: string, change?: (op: Parameters<Implementation['step']>[0], obs: Observation) => Observation, layout = 'architected'): Implementation & { closed: () => number } {
  const hw = models.nv2({ layout, host: NO_ECV });
  const close = vi.fn();
  return {
    name, declaration: hw.declaration, reset: (c) => hw.reset(c),
    step: (op) => {
      const o = hw.step(op) as Observation;
      return change ? change(op, o) : o;
    },
    close,
    closed: () => close.mock.calls.length,
  };
}

describe('an Implementation object', () => {
  it('the built-in model as an object gives what its spec gives, under its own name', async () => {
    const { host, ...rest } = TVAL;
    const byObject = await check({ ...rest, impl: models.nv2({ layout: 'tval-in-vncr', host }) });
    const bySpec = await check(TVAL);
    expect(byObject.options.impl).toBe('instance:nv2');
    expect(byObject.options.layout).toBe('tval-in-vncr');
    expect(byObject.results[0]!.counterexample!.trace).toEqual(bySpec.results[0]!.counterexample!.trace);
    expect(byObject.results[0]!.scope).toBe(bySpec.results[0]!.scope);
  });

  it('an object of the caller\'s (no snapshots) is checked too, and is not closed', async () => {
    const obj = wrapped('mine', undefined, 'tval-in-vncr');
    const r = await check({ ...OBJ_TVAL, impl: obj });
    expect(r.options.impl).toBe('instance:mine');
    expect(r.results[0]!.verdict).toBe('fail');
    expect(r.results[0]!.counterexample!.steps).toHaveLength(2);
    expect(r.results[0]!.text).toContain('impl     instance:mine, layout tval-in-vncr');
    // Without snapshot/restore the exhaustive phase replays prefixes, to depth 1.
    expect(r.results[0]!.exhaustive!.depth).toBe(1);
    expect(obj.closed()).toBe(0);
  });

  it('a layout given must be the one it declares', async () => {
    await expect(check({ impl: wrapped('mine'), layout: 'tval-in-vncr', property: 'deferred' })).rejects.toThrow("check: options.layout 'tval-in-vncr' is not the layout mine declares ('architected')");
  });

  it('an exception it throws is a failure of the implementation at that op, shrunk like any counterexample', async () => {
    const r = await check({ guest: 'vhe', property: 'deferred', impl: wrapped('thrower', (op, o) => {
      if (op.op === 'mrs' && op.reg === 'CNTV_CVAL_EL02') throw new TypeError('cannot read that');
      return o;
    }) });
    const p = r.results[0]!;
    expect(p.verdict).toBe('fail');
    expect(p.explanation).toBe('the implementation failed: instance:thrower: step(mrs) threw: TypeError: cannot read that');
    expect(p.counterexample!.steps.at(-1)!.text).toBe('mrs CNTV_CVAL_EL02');
    expect(p.counterexample!.steps.at(-1)!.observed).toBeNull();
  });

  it('an observation of the wrong shape is a failure too', async () => {
    const r = await check({ guest: 'vhe', property: 'deferred', runs: 10, impl: wrapped('bad-irq', (_op, o) => ({ ...o, irq: 99 })) });
    // The runner checks every answer's shape, an object's as a plug-in's.
    expect(r.results[0]!.explanation).toMatch(/^the implementation failed: bad-irq: answered ops\[0\] \(.*\) with .*: irq is not a set of the four timer lines$/);
    expect(r.results[0]!.counterexample!.steps).toHaveLength(1);
  });
});

describe('replay', () => {
  it('re-runs a token with its own options', async () => {
    const r = await check(TVAL);
    const again = await replay({ trace: r.results[0]!.token! });
    expect(again.options).toMatchObject({ impl: 'nv2', layout: 'tval-in-vncr', properties: ['deferred'] });
    expect(again.results[0]!.verdict).toBe('fail');
    expect(again.results[0]!.counterexample!.trace).toEqual(r.results[0]!.counterexample!.trace);
    expect(again.text).toMatch(/^nvconform replay: 2 ops; guest vhe, features \[wfxt\], count 0x0; nv2, layout tval-in-vncr, host-ecv-traps off, host-cpu vhe,wfxt,nv2p1\n/);
    expect(again.observations).toBeNull();
    // The same trace on the architected layout passes.
    expect((await replay({ trace: r.results[0]!.token!, layout: 'architected' })).verdict).toBe('pass');
  });

  it('never runs what a token names unless it is built in, and never reads a layout file a token names', async () => {
    const trace = { config: { guest: 'vhe' as const, features: [], count: 0n, init: {} }, ops: [{ op: 'mrs' as const, reg: 'CNTV_CVAL_EL02' }] };
    await expect(replay({ trace: encodeToken(trace, { impl: 'exec:touch /tmp/nvconform-pwned' }) })).rejects.toThrow(/this token was made with the implementation "exec:touch \/tmp\/nvconform-pwned"; a token never names what to run/);
    await expect(replay({ trace: encodeToken(trace, { impl: './evil.mjs' }) })).rejects.toBeInstanceOf(InputError);
    await expect(replay({ trace: encodeToken(trace, { layout: '/etc/passwd' }) })).rejects.toThrow(/is not a catalogue layout \(.*\); a token names a catalogue layout or carries its slots, never a file/);
    // Named by the caller, it runs.
    expect((await replay({ trace: encodeToken(trace, { impl: 'exec:whatever' }), impl: 'nv2', property: 'deferred' })).verdict).toBe('pass');
  });

  it('takes a trace file or a trace document', async () => {
    const file = join(ROOT, 'examples', 'nv2-tval-slot-stale.json');
    const byFile = await replay({ trace: file, layout: 'tval-in-vncr', property: 'deferred' });
    const doc = (await run({ trace: file })).trace;
    const byDoc = await replay({ trace: { format: doc.format, config: doc.config, ops: doc.ops }, layout: 'tval-in-vncr', property: 'deferred' });
    expect(byDoc.results.map((x) => x.verdict)).toEqual(byFile.results.map((x) => x.verdict));
    await expect(replay({ trace: { format: 'nope' } as never })).rejects.toThrow(/^replay: options\.trace: format: expected "nvconform-trace\/1"/);
  });
});

describe('replay against a trace\'s own observations', () => {
  it('agrees with what the same model observed, and names the first op where another model differs', async () => {
    const file = join(ROOT, 'examples', 'vhe-cval-basic.json');
    const mine = (await run({ trace: file, model: 'nv2' })).trace;
    const same = await replay({ trace: mine, impl: 'nv2', property: 'deferred' });
    expect(same.observations).toEqual({ verdict: 'pass', ops: mine.ops.length, divergentOp: null, expected: null, observed: null });
    const arch = (await run({ trace: file })).trace;
    const other = await replay({ trace: arch, impl: 'nv2', property: 'deferred' });
    expect(other.observations!.verdict).toBe('fail');
    expect(other.verdict).toBe('fail');
    const i = other.observations!.divergentOp!;
    expect(other.observations!.expected).toEqual(arch.observations![i]);
    expect(other.observations!.observed).toEqual(mine.observations![i]);
    expect(other.text).toMatch(new RegExp(`^x observations: FAIL at op #${i} `, 'm'));
  });
});

describe('host options', () => {
  it.each([
    [{ host: { profile: 'xen' } }, "check: options.host.profile: expected 'exact' or 'kvm', got \"xen\""],
    [{ host: { cpu: ['ecv', 'sve'] } }, 'check: options.host.cpu: unknown feature "sve" (ecv, ecv-poff, wfxt, vhe, nv2p1)'],
    [{ host: { counterOffset: 5 } }, 'check: options.host.counterOffset: expected "0x" and 1 to 16 hex digits, got 5'],
    [{ host: { cores: 4 } }, "check: options.host: unknown field 'cores' (profile, cpu, counterOffset)"],
    [{ impl: models.nv2(), host: { profile: 'kvm' } }, 'check: options.host does not apply to an Implementation object'],
    [{ exclude: ['CNTX_CTL_EL0'] }, 'check: options.exclude: unknown register "CNTX_CTL_EL0"'],
  ])('rejects a bad host or exclude option (case %#)', async (opts, message) => {
    await expect(check({ property: 'deferred', runs: 5, ...opts } as never)).rejects.toThrow(message);
  });

  it('the kvm profile and a counter offset reach the model and the report', async () => {
    const r = await check({ property: 'deferred', guest: 'vhe', runs: 20, host: { profile: 'kvm', cpu: ['vhe', 'wfxt', 'nv2p1'], counterOffset: '0x100' } });
    expect(r.options.host).toEqual({ profile: 'kvm', cpu: ['vhe', 'wfxt', 'nv2p1'], counterOffset: '0x100' });
    expect(r.text.split('\n')[0]).toContain('host kvm, host-cpu vhe,wfxt,nv2p1, counter offset 0x100');
  });
});

describe('run', () => {
  it('on the reference and on nv2: observations, hardware and the timer map', async () => {
    const file = join(ROOT, 'examples', 'vhe-cval-basic.json');
    const ref = await run({ trace: file });
    expect(ref.model).toBe('reference');
    expect(ref.layout).toBeNull();
    expect(ref.trace.observations).toHaveLength(11);
    expect(ref.steps[2]).toMatchObject({ text: 'mrs CNTV_TVAL_EL02', expected: { irq: [], value: '0x10' }, observed: { irq: [], value: '0x10' }, hardware: [] });
    const nv2 = await run({ trace: file, model: 'nv2' });
    expect(nv2.model).toBe('nv2');
    expect(nv2.layout).toBe('architected');
    expect(nv2.steps[0]!.hardware).toEqual(['store VNCR[0x168] (CNTV_CVAL_EL0)']);
    expect(nv2.steps[0]!.timerMap).toMatch(/vtimer/);
    expect(plainProblems(nv2)).toEqual([]);
    await expect(run({ trace: file, layout: 'tval-in-vncr' })).rejects.toThrow('run: options.layout applies to an implementation, not to the reference');
  });
});

describe('layouts, properties, models', () => {
  it('judges layouts given as data, next to the baseline', async () => {
    const r = await layouts({ catalogue: false, layouts: [{ name: 'tval-spare', slots: { CNTV_CVAL_EL0: 0x168, CNTV_TVAL_EL0: 0x1f0 } }], guests: ['vhe'], runs: 30 });
    expect(plainProblems(r)).toEqual([]);
    expect(r.layouts).toHaveLength(1);
    const l = r.layouts[0]!;
    expect(l).toMatchObject({ name: 'tval-spare', guest: 'vhe', source: 'data', headline: 'deferred' });
    expect(l.deferred.verdict).toBe('fail');
    expect(l.deferred.token).toMatch(/^nvc1:/);
    expect(Object.keys(l.trapsPer1000)).toEqual(['linux', 'tval', 'random']);
    expect(Object.keys(r.baseline)).toEqual(['vhe']);
    await expect(layouts({ catalogue: false })).rejects.toThrow('layouts: no layout to judge');
  });

  it('lists the properties and the models', () => {
    expect(properties.map((p) => p.name)).toEqual([...PROPERTY_NAMES]);
    expect(properties.every((p) => p.summary.length > 10)).toBe(true);
    expect(models.names).toEqual(['reference', 'nv2', 'nv']);
    expect(models.layoutNames()[0]).toBe('architected');
    expect(models.layoutData('architected').slots.CNTV_CVAL_EL0).toBe(0x168);
    const nv = models.nv({ layout: 'tval-in-vncr' });
    expect(nv.declaration.page).toBe(false);
    expect(nv.declaration.layout.name).toBe('tval-in-vncr');
  });
});

describe('expectConformant', () => {
  it('resolves with the report when the property holds', async () => {
    const r = await expectConformant('nv2', { ...PASS, layout: 'architected', runs: 50 });
    expect(r.verdict).toBe('pass');
    expect(r.results[0]!.scope).toMatch(/^no counterexample among/);
  });

  it('rejects with the property, the counterexample as the text report prints it, and the token', async () => {
    const err = await expectConformant('nv2', TVAL).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ConformanceError);
    const e = err as ConformanceError;
    const p = e.report.results[0]!;
    expect(e.message.split('\n')[0]).toBe('nv2 does not conform (layout tval-in-vncr, host-ecv-traps off, host-cpu vhe,wfxt,nv2p1, seed 42): deferred fails');
    expect(e.message).toContain(p.text);
    expect(e.message).toContain(p.token!);
    expect(Object.keys(e)).not.toContain('report');
  });

  it('for an object, says how to replay against it', async () => {
    const e = (await expectConformant(wrapped('mine', undefined, 'tval-in-vncr'), OBJ_TVAL).catch((x: unknown) => x)) as Error;
    expect(e.message).toMatch(/^instance:mine does not conform/);
    expect(e.message).toContain('replay({ trace: TOKEN, impl: yourImplementation })');
  });
});
