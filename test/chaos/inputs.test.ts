/**
 * Large inputs and a trace's own observations: run and replay read and execute traces
 * iteratively and stream their output; the observations a trace carries are compared with what
 * ran (the trace format's rule), and the first difference is reported (exit 1); an implementation
 * that fails in `run` gets the table up to the op and the failure on stdout.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, execSpec, marker, oneLine, PLUGINS, settledLeftovers, tmp } from './util.js';

const dir = tmp();
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, doc: unknown): string => {
  const p = join(dir, name);
  writeFileSync(p, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return p;
};
const trace = (ops: object[], observations?: object[], guest = 'vhe') =>
  ({ format: 'nvconform-trace/1', config: { guest }, ops, ...(observations ? { observations } : {}) });

/** A trace of n ops: CVAL, CTL, tick, TVAL read, over and over (ticks only with `ticks`), then `tail`. */
function bigTrace(n: number, tail: string[] = [], ticks = false): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = ticks ? 2 : i % 4;
    lines.push(JSON.stringify(k === 0 ? { op: 'msr', reg: 'CNTV_CVAL_EL02', value: `0x${(i * 3).toString(16)}` } : k === 1 ? { op: 'msr', reg: 'CNTV_CTL_EL02', value: '0x1' } : k === 2 ? { op: 'tick', by: '0x2' } : { op: 'mrs', reg: 'CNTV_TVAL_EL02' }));
  }
  return `{"format": "nvconform-trace/1", "config": {"guest": "vhe"}, "ops": [\n${[...lines, ...tail].join(',\n')}\n]}\n`;
}

describe.concurrent('large traces', () => {
  it('run: 150,000 ops (which overflowed the stack) print every row, streamed with a fixed observation column', async () => {
    const p = file('big.json', bigTrace(150_000));
    const r = await cli(['run', p]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3 + 150_000);
    expect(lines[1]).toBe('#       EL    op    reg             value    observation');
    expect(lines[2]).toBe(`------  ----  ----  --------------  -------  ${'-'.repeat(32)}`);
    expect(lines.at(-1)).toMatch(/^149999  vEL2  mrs   CNTV_TVAL_EL02           value=0x\w+ irq=\[\]$/);
  });

  it('replay: a failure after 20,000 ops shows the last 40 ops up to it; --json gives the op, not the whole trace again', async () => {
    const p = file('late.json', bigTrace(20_000, ['{"op":"msr","reg":"CNTV_TVAL_EL02","value":"0x2"}', '{"op":"mrs","reg":"CNTV_CVAL_EL02"}'], true));
    const r = await cli(['replay', p, '--layout', 'tval-in-vncr', '--property', 'deferred']);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^x deferred: FAIL at op #20001\n {2}\(ops #0 to #\d+ not shown\)\n/m);
    expect(r.stdout).toMatch(/^ {2}>20001 +vEL2 +mrs +CNTV_CVAL_EL02 /m);
    const j = JSON.parse((await cli(['replay', p, '--layout', 'tval-in-vncr', '--property', 'deferred', '--json'])).stdout) as { results: Record<string, unknown>[] };
    expect(j.results[0]).toMatchObject({ verdict: 'fail', divergentOp: 20001, counterexample: null, token: null, expected: null });
  });
});

describe.concurrent('a trace\'s own observations', () => {
  const wrong = () => file('wrong.json', trace([{ op: 'tick', by: '0x5' }, { op: 'mrs', reg: 'CNTPCT_EL0' }], [{ irq: [] }, { irq: [], value: '0x1234' }]));

  it('run: the first difference after the table, exit 1, one line on stderr', async () => {
    const p = wrong();
    const r = await cli(['run', p]);
    expect(r.status).toBe(1);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe("the observations differ from the trace's at op #1 (mrs CNTPCT_EL0): the trace has value=0x1234 irq=[], the reference gave value=0x5 irq=[]");
    expect(oneLine(r.stderr)).toBe(`nvconform: ${p}: ops[1]: the reference gave value=0x5 irq=[] where the trace's observation is value=0x1234 irq=[]`);
  });

  it('run --json: the document as run, exit 1', async () => {
    const r = await cli(['run', wrong(), '--json']);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).observations[1]).toEqual({ irq: [], value: '0x5' });
  });

  it('replay: a failing check of its own, and in --json', async () => {
    const p = wrong();
    const r = await cli(['replay', p]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("\nx observations: FAIL at op #1 (mrs CNTPCT_EL0): the trace has value=0x1234 irq=[], nv2 gave value=0x5 irq=[]\n");
    expect(r.stdout).toMatch(/^verdict: fail$/m);
    const j = JSON.parse((await cli(['replay', p, '--json'])).stdout) as { observations: unknown };
    expect(j.observations).toEqual({ verdict: 'fail', ops: 2, divergentOp: 1, expected: { irq: [], value: '0x1234' }, observed: { irq: [], value: '0x5' } });
  });

  it('UNKNOWN bits are not compared; observations that agree pass', async () => {
    // TVAL of a disabled timer is UNKNOWN: any value agrees.
    const p = file('unknown.json', trace([{ op: 'mrs', reg: 'CNTV_TVAL_EL02' }], [{ irq: [], value: '0xdead' }]));
    const r = await cli(['run', p]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const ok = await cli(['replay', 'test/fixtures/arch/wfi.json', '--impl', 'nv', '--layout', 'trap-all']);
    expect(ok.status, ok.stdout).toBe(0);
    expect(ok.stdout).toContain('\n+ observations: nv agrees with the trace\'s own observations (24 ops)\n');
  });

  it('the NV2 model\'s deferred lag against a fixture of the architecture\'s observations', async () => {
    const r = await cli(['run', 'test/fixtures/arch/wfi.json', '--model', 'nv2']);
    expect(r.status).toBe(1);
    expect(oneLine(r.stderr)).toMatch(/^nvconform: test\/fixtures\/arch\/wfi\.json: ops\[\d+\]: nv2 gave .* where the trace's observation is /);
  });
});

describe.concurrent('run with an implementation that fails', () => {
  it('an exec process that dies: the table up to the op, the failure on stdout, one line on stderr, exit 1; no process left', async () => {
    const m = marker('rundie');
    const r = await cli(['run', 'examples/vhe-cval-basic.json', '--model', execSpec(m, 'die-at 4')]);
    expect(r.status).toBe(1);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.at(-3)).toMatch(/^2 +vEL2 +\S+ .*\(no answer\)$/);
    expect(lines.at(-1)).toMatch(/^the implementation failed at op #2 \(.*\): exec:node .*: exited with code 1 before answering ops\[2\] \(last output: .*stderr: chaos: message 4/);
    expect(oneLine(r.stderr)).toMatch(/^nvconform: exec:node .*: exited with code 1 before answering ops\[2\] /);
    expect(await settledLeftovers(m)).toEqual([]);
  });

  it('--json: the trace up to the failing op, with what was observed', async () => {
    const r = await cli(['run', 'examples/vhe-cval-basic.json', '--json', '--model', execSpec(marker('runjson'), 'die-at 4')]);
    expect(r.status).toBe(1);
    const d = JSON.parse(r.stdout) as { ops: unknown[]; observations: unknown[] };
    expect(d.ops).toHaveLength(2);
    expect(d.observations).toHaveLength(2);
  });

  it('a plug-in that calls process.exit', async () => {
    const r = await cli(['run', 'examples/vhe-cval-basic.json', '--model', `${PLUGINS}/exit0.mjs`]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/\nthe implementation failed at op #2 \(.*\): plug-in \S+exit0\.mjs: step\(ops\[2\]\): the plug-in called process\.exit\(0\) \(last output: stdout: about to exit, as if done\)\n$/);
    expect(oneLine(r.stderr)).toMatch(/^nvconform: plug-in \S+exit0\.mjs: step\(ops\[2\]\): the plug-in called process\.exit\(0\)/);
  });

  it('an mrs answered without a value', async () => {
    const r = await cli(['run', 'examples/vhe-cval-basic.json', '--model', `${PLUGINS}/nomrsvalue.mjs`]);
    expect(r.status).toBe(1);
    expect(oneLine(r.stderr)).toMatch(/^nvconform: \S+nomrsvalue\.mjs: answered ops\[\d+\] \(mrs \S+\) with \{"irq":\[[a-z",]*\]\}: no value, but an mrs that completes reads one$/);
  });
});
