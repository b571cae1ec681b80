/**
 * Module plug-ins (src/plugins/module.ts) loaded through the engine's registry, as the CLI does:
 * the example plug-ins against the reference, and every way a plug-in can be broken.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadLayout } from '../../models/layouts/load.js';
import { loadExternal } from '../../src/plugins/index.js';
import { createImplementation, type ImplOptions } from '../../src/engine/registry.js';
import type { Implementation } from '../../models/arch/implementation.js';
import { ImplementationError, InputError, NvcError } from '../../models/arch/errors.js';
import { defaultConfig, type Op } from '../../models/arch/vocabulary.js';
import { exampleTraces, firstDivergence, loadTrace, traceArb } from './util.js';

const OPTS: ImplOptions = { layout: 'architected', hostEcvTraps: false };
const F = 'test/plugins/fixtures/plugins';
const TICK: Op = { op: 'tick', by: 1n };

/** The error `p` rejects with. */
async function failure(p: Promise<unknown>): Promise<NvcError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof NvcError) return e;
    throw new Error(`expected an NvcError, got ${String(e)}`);
  }
  throw new Error('expected a failure');
}

async function runOps(impl: Implementation, n: number, op: Op = TICK): Promise<void> {
  await impl.reset(defaultConfig());
  for (let i = 0; i < n; i++) await impl.step(op);
}

describe('example plug-ins against the reference', () => {
  const traces = exampleTraces();

  it('finds the example traces', () => {
    expect(traces.map((t) => t.file)).toEqual(expect.arrayContaining(['examples/vhe-cval-basic.json', 'examples/plugin/tval-negative.json']));
  });

  it('trap-all-host.mjs agrees with the reference op for op on every example trace', async () => {
    const impl = await createImplementation('examples/plugin/trap-all-host.mjs', OPTS);
    expect(impl.name).toBe('trap-all-host');
    for (const { file, trace } of traces) expect(await firstDivergence(impl, trace), file).toBeUndefined();
    await impl.close?.();
  });

  it('trap-all-host.mjs agrees with the reference on random traces (both guests, with and without ecv)', async () => {
    const impl = await createImplementation('./examples/plugin/trap-all-host.mjs', OPTS);
    await fc.assert(
      fc.asyncProperty(traceArb, async (t) => {
        const d = await firstDivergence(impl, t);
        if (d) throw new Error(`diverged at ops[${d.index}] ${JSON.stringify(d, (_k, v: unknown) => (typeof v === 'bigint' ? '0x' + v.toString(16) : v))}`);
      }),
      { numRuns: 400, seed: 42 },
    );
  });

  it('buggy-host.mjs agrees where TVAL writes are non-negative, and is refuted by tval-negative.json', async () => {
    const impl = await createImplementation('examples/plugin/buggy-host.mjs', OPTS);
    expect(impl.name).toBe('buggy-host');
    expect(await firstDivergence(impl, loadTrace('examples/vhe-cval-basic.json'))).toBeUndefined();
    const d = await firstDivergence(impl, loadTrace('examples/plugin/tval-negative.json'));
    expect(d?.index).toBe(1); // the TVAL write of -16: the vtimer line should be asserted at once
    expect(d?.expected.irq).toBe(8);
    expect(d?.observed.irq).toBe(0);
  });

  it('buggy-host.mjs is refuted by random traces too', async () => {
    const impl = await createImplementation('examples/plugin/buggy-host.mjs', OPTS);
    const found = await fc.check(fc.asyncProperty(traceArb, async (t) => (await firstDivergence(impl, t)) === undefined), { numRuns: 400, seed: 42 });
    expect(found.failed).toBe(true);
  });

  it('supports detail(): each access reports a trap to the host', async () => {
    const impl = await createImplementation('examples/plugin/trap-all-host.mjs', OPTS);
    await impl.reset(defaultConfig());
    await impl.step({ op: 'mrs', reg: 'CNTVCT_EL0' });
    expect(impl.detail?.()).toEqual({ actions: [{ kind: 'trap', why: 'mrs CNTVCT_EL0' }], vncr: [] });
  });

  it('a default-exported object with async methods works; options are passed; close() errors are ignored', async () => {
    // The plug-in runs in a worker thread: it reports what it saw through a file.
    const dir = mkdtempSync(join(tmpdir(), 'nvc-async-default-'));
    const report = join(dir, 'state.json');
    process.env.NVC_ASYNC_DEFAULT_OUT = report;
    try {
      const impl = await createImplementation(`${F}/async-default.mjs`, { layout: 'cval-only', hostEcvTraps: true });
      expect(impl.name).toBe(`${F}/async-default.mjs`);
      expect(JSON.parse(readFileSync(report, 'utf8'))).toEqual({ options: { layout: 'cval-only', hostEcvTraps: true }, closed: 0 });
      expect(await firstDivergence(impl, loadTrace('examples/vhe-cval-basic.json'))).toBeUndefined();
      await expect(impl.close?.()).resolves.toBeUndefined();
      expect(JSON.parse(readFileSync(report, 'utf8'))).toMatchObject({ closed: 1 });
    } finally {
      delete process.env.NVC_ASYNC_DEFAULT_OUT;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loads a .ts plug-in by transpiling it', async () => {
    const impl = await createImplementation(`${F}/ts-plugin.ts`, OPTS);
    expect(impl.name).toBe('count-only');
    await impl.reset(defaultConfig({ count: 0x10n }));
    await impl.step({ op: 'tick', by: 5n });
    expect(await impl.step({ op: 'mrs', reg: 'CNTPCT_EL0' })).toEqual({ irq: 0, value: 0x15n });
  });
});

describe('plug-ins that break the contract: ImplementationError (exit 1) naming the op', () => {
  it('a malformed observation', async () => {
    const impl = await createImplementation(`${F}/bad-obs.mjs`, OPTS);
    const e = await failure(runOps(impl, 5));
    expect(e).toBeInstanceOf(ImplementationError);
    expect(e.exitCode).toBe(1);
    expect(e.message).toBe(`plug-in ${F}/bad-obs.mjs: step(ops[3]) returned {"irq":"x"}: irq: expected a list of timer names, got "x"`);
  });

  it('an observation with `unknown`', async () => {
    const impl = await createImplementation(`${F}/unknown-field.mjs`, OPTS);
    const e = await failure(runOps(impl, 1));
    expect(e).toBeInstanceOf(ImplementationError);
    expect(e.message).toMatch(/step\(ops\[0\]\) returned \{"irq":\[\],"value":"0x0","unknown":"0xffffffff"\}: 'unknown' is only for expectations/);
  });

  it('step() throws: the op and the first line of its message', async () => {
    const impl = await createImplementation(`${F}/throws-step.mjs`, OPTS);
    const e = await failure(runOps(impl, 3, { op: 'mrs', reg: 'CNTVCT_EL0' }));
    expect(e).toBeInstanceOf(ImplementationError);
    expect(e.message).toBe(`plug-in ${F}/throws-step.mjs: step(ops[2]) threw: no idea how to mrs CNTVCT_EL0`);
  });

  it('reset() throws', async () => {
    const impl = await createImplementation(`${F}/throws-step.mjs`, OPTS);
    const e = await failure(Promise.resolve(impl.reset(defaultConfig({ count: 0xdeadn }))));
    expect(e).toBeInstanceOf(ImplementationError);
    expect(e.message).toBe(`plug-in ${F}/throws-step.mjs: reset() threw: cannot start at 0xdead`);
  });

  it('an asynchronous step() that never settles times out', async () => {
    const impl = await loadExternal(`${F}/async-hang.mjs`, { layout: loadLayout('architected'), hostEcvTraps: false, timeoutMs: 200 });
    const t0 = Date.now();
    const e = await failure(runOps(impl, 3));
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(e).toBeInstanceOf(ImplementationError);
    // The plug-in runs in a worker thread, which is stopped.
    expect(e.message).toBe(`plug-in ${F}/async-hang.mjs: step(ops[1]) did not settle within 200 ms (the plug-in was stopped)`);
  });

  it('detail() returning a malformed action', async () => {
    const impl = await createImplementation(`${F}/bad-detail.mjs`, OPTS);
    await runOps(impl, 1);
    expect(() => impl.detail?.()).toThrow(ImplementationError);
    expect(() => impl.detail?.()).toThrow(/detail\(\) after ops\[0\] returned .*actions\[0\]: expected/);
  });
});

describe('modules that are not plug-ins: InputError (exit 2), one line', () => {
  const cases: [string, RegExp][] = [
    ['no/such/plugin.mjs', /^plug-in no\/such\/plugin\.mjs: no such file \(an implementation is .*nv2.*exec:COMMAND\)$/],
    [`${F}`, /is a directory/],
    ['package.json', /^plug-in package\.json: expected a \.js, \.mjs or \.ts module, got a '\.json' file$/],
    [`${F}/throws-import.mjs`, /^plug-in .*throws-import\.mjs: cannot import: kaboom at import$/],
    [`${F}/no-factory.mjs`, /^plug-in .*no-factory\.mjs: the module exports no createImplementation function/],
    [`${F}/bad-shape.mjs`, /^plug-in .*bad-shape\.mjs: createImplementation\(\) returned \{\}, expected an object with reset\(config\) and step\(op\) methods$/],
  ];
  for (const [spec, re] of cases) {
    it(spec, async () => {
      const e = await failure(createImplementation(spec, OPTS));
      expect(e).toBeInstanceOf(InputError);
      expect(e.exitCode).toBe(2);
      expect(e.message).not.toContain('\n');
      expect(e.message).toMatch(re);
    });
  }

  it('a .ts plug-in with a syntax error names the line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nvc-ts-'));
    try {
      const file = join(dir, 'broken.ts');
      writeFileSync(file, 'export function createImplementation() {\n  return { reset() {}, step() { return { irq: [] } };\n');
      const e = await failure(createImplementation(file, OPTS));
      expect(e).toBeInstanceOf(InputError);
      expect(e.message).toMatch(/^plug-in .*broken\.ts:2: ',' expected\.$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a bad timeoutMs option or NVCONFORM_EXEC_TIMEOUT_MS', async () => {
    const e = await failure(loadExternal('examples/plugin/trap-all-host.mjs', { layout: loadLayout('architected'), hostEcvTraps: false, timeoutMs: -1 }));
    expect(e).toBeInstanceOf(InputError);
    process.env.NVCONFORM_EXEC_TIMEOUT_MS = 'soon';
    try {
      const e2 = await failure(createImplementation('examples/plugin/trap-all-host.mjs', OPTS));
      expect(e2).toBeInstanceOf(InputError);
      expect(e2.message).toBe(`NVCONFORM_EXEC_TIMEOUT_MS: expected a positive whole number of milliseconds, got 'soon'`);
    } finally {
      delete process.env.NVCONFORM_EXEC_TIMEOUT_MS;
    }
  });

  it('a name with no dot or slash is still not ours', async () => {
    const e = await failure(createImplementation('frobnicate', OPTS));
    expect(e.message).toMatch(/unknown implementation 'frobnicate'/);
  });
});
