/**
 * External processes (src/plugins/exec.ts): the Python example against the reference, and every
 * way a process can break the protocol. Timeouts are set small so a hang costs little.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLayout } from '../../models/layouts/load.js';
import { loadExternal, splitCommand } from '../../src/plugins/index.js';
import { createImplementation, type ImplOptions } from '../../src/engine/registry.js';
import type { Implementation } from '../../models/arch/implementation.js';
import { ImplementationError, InputError, NvcError } from '../../models/arch/errors.js';
import { defaultConfig, type Op } from '../../models/arch/vocabulary.js';
import { exampleTraces, firstDivergence, loadTrace, traceArb } from './util.js';

const OPTS: ImplOptions = { layout: 'architected', hostEcvTraps: false };
const PY = 'exec:python3 examples/exec/trap_all.py';
const MIS = 'exec:node test/plugins/fixtures/misbehave.mjs';
const TICK: Op = { op: 'tick', by: 1n };
const MRS: Op = { op: 'mrs', reg: 'CNTPCT_EL0' };

async function failure(p: Promise<unknown>): Promise<NvcError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof NvcError) return e;
    throw new Error(`expected an NvcError, got ${String(e)}`);
  }
  throw new Error('expected a failure');
}

/** A misbehaving process with a short timeout. */
const misbehave = (args: string, timeoutMs = 2000): Promise<Implementation> =>
  loadExternal(`${MIS} ${args}`, { layout: loadLayout('architected'), hostEcvTraps: false, timeoutMs });

/** reset, then `n` ticks; rejects with the first error. */
async function run(impl: Implementation, n: number, op: Op = TICK): Promise<void> {
  await impl.reset(defaultConfig());
  for (let i = 0; i < n; i++) await impl.step(op);
}

describe('the Python example process against the reference', () => {
  let impl: Implementation;
  beforeAll(async () => {
    impl = await createImplementation(PY, OPTS);
  });
  afterAll(async () => {
    await impl.close?.();
  });

  it('agrees op for op on every example trace', async () => {
    expect(impl.name).toBe(PY);
    for (const { file, trace } of exampleTraces()) expect(await firstDivergence(impl, trace), file).toBeUndefined();
  });

  it('agrees on random traces, one process reset for each', async () => {
    await fc.assert(
      fc.asyncProperty(traceArb, async (t) => {
        const d = await firstDivergence(impl, t);
        if (d) throw new Error(`diverged at ops[${d.index}] ${JSON.stringify(d, (_k, v: unknown) => (typeof v === 'bigint' ? '0x' + v.toString(16) : v))}`);
      }),
      { numRuns: 150, seed: 42 },
    );
  });

  it('--bug tval-sign is refuted by tval-negative.json at the TVAL write', async () => {
    const bug = await createImplementation(`exec:python3 "examples/exec/trap_all.py" --bug 'tval-sign'`, OPTS);
    try {
      expect(await firstDivergence(bug, loadTrace('examples/vhe-cval-basic.json'))).toBeUndefined();
      const d = await firstDivergence(bug, loadTrace('examples/plugin/tval-negative.json'));
      expect(d?.index).toBe(1);
      expect([d?.expected.irq, d?.observed.irq]).toEqual([8, 0]);
    } finally {
      await bug.close?.();
    }
  });
});

describe('process lifecycle', () => {
  it('one process serves many resets', async () => {
    const impl = await misbehave('ok');
    for (let k = 1; k <= 3; k++) {
      await impl.reset(defaultConfig());
      expect((await impl.step(MRS)).value).toBe(BigInt(k)); // the fixture reads back its reset count
    }
    await impl.close?.();
  });

  it('a process that exited between traces is restarted at the next reset', async () => {
    const impl = await misbehave('exit 1');
    await run(impl, 2, MRS);
    const e = await failure(Promise.resolve(impl.step(MRS)));
    expect(e).toBeInstanceOf(ImplementationError);
    expect(e.message).toMatch(/^exec:node .*misbehave\.mjs exit 1: exited with code 0 before (answering )?ops\[2\] \(last output: stdout: /);
    await impl.reset(defaultConfig());
    expect((await impl.step(MRS)).value).toBe(1n); // a fresh process
    await impl.close?.();
  });

  it('passes the options to the child in the environment', async () => {
    const impl = await loadExternal(`${MIS} envcheck`, { layout: loadLayout('cval-only'), hostEcvTraps: true });
    const e = await failure(run(impl, 1));
    expect(e.message).toMatch(/reported an error at ops\[0\]: cval-only 1$/);
    await impl.close?.();
  });

  it('stderr chatter is collected, not a problem', async () => {
    const impl = await misbehave('noisy');
    await run(impl, 5);
    await impl.close?.();
  });

  it('close() kills a child that ignores end of input and SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nvc-exec-'));
    try {
      const pidFile = join(dir, 'pid');
      const impl = await misbehave(`stubborn ${pidFile}`);
      await run(impl, 1);
      const pid = Number(readFileSync(pidFile, 'utf8'));
      const t0 = Date.now();
      await impl.close?.();
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('processes that break the protocol: ImplementationError (exit 1) naming the op, quoting output', () => {
  it('hangs: reported within the timeout, the child killed, and restarted at the next reset', async () => {
    const impl = await misbehave('hang 2', 300);
    await run(impl, 2);
    const t0 = Date.now();
    const e = await failure(Promise.resolve(impl.step(TICK)));
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(e).toBeInstanceOf(ImplementationError);
    expect(e.exitCode).toBe(1);
    expect(e.message).toBe(`${MIS} hang 2: no answer to ops[2] within 300 ms (last output: stdout: {"ready":true} | {"irq":[]} | {"irq":[]})`);
    await impl.reset(defaultConfig());
    expect((await impl.step(MRS)).value).toBe(1n);
    await impl.close?.();
  });

  it('hangs, with the timeout from NVCONFORM_EXEC_TIMEOUT_MS', async () => {
    process.env.NVCONFORM_EXEC_TIMEOUT_MS = '250';
    try {
      const impl = await createImplementation(`${MIS} hang 0`, OPTS);
      const e = await failure(run(impl, 1));
      expect(e.message).toMatch(/no answer to ops\[0\] within 250 ms/);
      await impl.close?.();
    } finally {
      delete process.env.NVCONFORM_EXEC_TIMEOUT_MS;
    }
  });

  it('crashes: exit status and the end of its stderr', async () => {
    const impl = await misbehave('crash 1');
    const e = await failure(run(impl, 3, MRS));
    expect(e).toBeInstanceOf(ImplementationError);
    expect(e.message).toMatch(
      /: exited with code 3 before answering ops\[1\] \(last output: stdout: \{"ready":true\} \| \{"irq":\[\],"value":"0x1"\}; stderr: Traceback \(most recent call last\): \| RuntimeError: register file corrupted at mrs\)$/,
    );
  });

  it('prints a line that is not JSON', async () => {
    const impl = await misbehave('garbage 0');
    const e = await failure(run(impl, 1));
    expect(e).toBeInstanceOf(ImplementationError);
    expect(e.message).toBe(`${MIS} garbage 0: answered ops[0] with a line that is not JSON: "this is not json" (last output: stdout: {"ready":true} | this is not json)`);
  });

  it('prints an observation that does not validate', async () => {
    const impl = await misbehave('badobs 0');
    const e = await failure(run(impl, 1));
    expect(e).toBeInstanceOf(ImplementationError);
    expect(e.message).toMatch(/answered ops\[0\] with \{"irq":"x"\}: irq: expected a list of timer names, got "x" \(last output: /);
  });

  it('prints an observation with `unknown`', async () => {
    const impl = await misbehave('unknown 0');
    const e = await failure(run(impl, 1));
    expect(e.message).toMatch(/answered ops\[0\] with .*'unknown' is only for expectations/);
  });

  it('answers an op with ready (out of turn)', async () => {
    const impl = await misbehave('ready 1');
    const e = await failure(run(impl, 2));
    expect(e).toBeInstanceOf(ImplementationError);
    expect(e.message).toMatch(/: answered ops\[1\] with \{"ready":true\} \(out of turn\), expected an observation \(last output: /);
  });

  it('answers the reset with an observation (out of turn)', async () => {
    const impl = await misbehave('obsreset');
    const e = await failure(run(impl, 0));
    expect(e.message).toMatch(/: answered reset with \{"irq":\[\]\} \(an observation, out of turn\), expected \{"ready":true\}/);
  });

  it('prints a line before it is asked', async () => {
    const impl = await misbehave('early');
    const e = await failure(run(impl, 1));
    expect(e).toBeInstanceOf(ImplementationError);
    // Whenever it arrives, the first line is the answer to the first request.
    expect(e.message).toMatch(/answered reset with \{"irq":\[\]\} \(an observation, out of turn\)/);
  });

  it('answers one op with two lines: the n-th line answers the n-th request, so the second stands as the next answer', async () => {
    const impl = await misbehave('extra 1');
    await run(impl, 3); // ops[2] (a tick) takes the extra {"irq":[]}: well formed
    const e = await failure(Promise.resolve(impl.reset(defaultConfig()))); // and the reset gets the real answer to ops[2]
    expect(e).toBeInstanceOf(ImplementationError);
    expect(e.message).toMatch(/: answered reset with \{"irq":\[\]\} \(an observation, out of turn\), expected \{"ready":true\} \(last output: /);
  });

  it('reports its own error', async () => {
    const impl = await misbehave('error 1');
    const e = await failure(run(impl, 2));
    expect(e).toBeInstanceOf(ImplementationError);
    expect(e.message).toBe(`${MIS} error 1: reported an error at ops[1]: CNTPOFF_EL2 is not supported`);
  });

  it('a Python process that crashes at start (missing script) is an ImplementationError quoting Python', async () => {
    const impl = await createImplementation('exec:python3 no/such/script.py', OPTS);
    const e = await failure(run(impl, 1));
    expect(e).toBeInstanceOf(ImplementationError);
    expect(e.message).toMatch(/exited with code 2 before (answering )?reset \(last output: stderr: .*can't open file/);
  });
});

describe('commands that cannot start: InputError (exit 2)', () => {
  it('a command that does not exist', async () => {
    const e = await failure(createImplementation('exec:no-such-command-nvc --flag', OPTS));
    expect(e).toBeInstanceOf(InputError);
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe(`exec:no-such-command-nvc --flag: cannot start 'no-such-command-nvc --flag': command not found`);
  });

  it('a file that is not executable', async () => {
    const e = await failure(createImplementation('exec:./package.json', OPTS));
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toMatch(/permission denied/);
  });

  it('an empty command or an unterminated quote', async () => {
    expect(await failure(createImplementation('exec:  ', OPTS))).toBeInstanceOf(InputError);
    const e = await failure(createImplementation(`exec:python3 "examples/exec/trap_all.py`, OPTS));
    expect(e.message).toMatch(/unterminated " quote/);
  });
});

describe('splitCommand', () => {
  const cases: [string, string[]][] = [
    ['python3 impl.py', ['python3', 'impl.py']],
    ['  a   b\tc ', ['a', 'b', 'c']],
    [`python3 "my impl.py" --name 'x y'`, ['python3', 'my impl.py', '--name', 'x y']],
    [`a"b c"d`, ['ab cd']],
    [`'it''s'`, ['its']],
    [`"say \\"hi\\" \\$HOME \\n"`, ['say "hi" $HOME \\n']],
    [`'no \\escapes "here"'`, ['no \\escapes "here"']],
    [`a\\ b c`, ['a b', 'c']],
    [`""`, ['']],
  ];
  for (const [cmd, words] of cases) it(cmd, () => expect(splitCommand(cmd, 'exec')).toEqual(words));
  it('rejects a lone backslash and unterminated single quotes', () => {
    expect(() => splitCommand('a \\', 'exec')).toThrow(InputError);
    expect(() => splitCommand(`a 'b`, 'exec')).toThrow(/unterminated ' quote/);
  });
});
