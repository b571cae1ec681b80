/**
 * Internal errors (a bug in nvconform itself, simulated by a built-in implementation that throws a
 * TypeError): exit status 3, one line on stderr naming a crash report, and a report with what is
 * needed to reproduce it. Never exit 2, which is for bad input.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeToken } from '../../src/trace/token.js';
import { cli, oneLine, ROOT, tmp } from './util.js';

const dir = tmp();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Run main() of the built CLI in a child process, with a built-in 'boom' (the reference model) whose step() runs `body` first. */
function withBoom(args: string[], body: string, crashDir: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const script = `
    import { installCrashHandlers, main } from './dist/src/cli/program.js';
    import { withBuiltins } from './dist/src/engine/registry.js';
    import { ReferenceModel } from './dist/models/reference/reference.js';
    installCrashHandlers();
    let n = 0;
    let ref;
    const boom = (o) => ({
      name: 'boom',
      declaration: { kind: 'builtin', sync: true, layout: o.layout, page: true, host: { ecvTraps: false }, detail: false },
      reset(c) { n = 0; ref = new ReferenceModel(c); },
      step(op) { n++; ${body}; const { unknown, ...obs } = ref.step(op); return obs; },
    });
    process.exitCode = await main(process.argv.slice(1), { registry: withBuiltins([['boom', boom]]) });
  `;
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--input-type=module', '-e', script, ...args], { cwd: ROOT, env: { ...process.env, NVCONFORM_CRASH_DIR: crashDir } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON document read back
const reportIn = (d: string): Record<string, any> => {
  const files = readdirSync(d).filter((f) => /^nvconform-crash-.*\.json$/.test(f));
  expect(files).toHaveLength(1);
  return JSON.parse(readFileSync(join(d, files[0]!), 'utf8'));
};

describe('an internal error', () => {
  it('in check: exit 3, one line with the crash report, which holds the stack, argv, versions, seed and the trace', async () => {
    const d = join(dir, 'check');
    const r = await withBoom(['check', '--impl', 'boom', '--runs', '5', '--property', 'architectural', '--seed', '7'], "if (n === 3) throw new TypeError('cannot read x of undefined')", d);
    expect(r.status).toBe(3);
    const line = oneLine(r.stderr);
    expect(line).toMatch(/^nvconform: internal error \(a bug in nvconform, please report it\): cannot read x of undefined; crash report: .*nvconform-crash-.*\.json$/);
    const rep = reportIn(d);
    expect(line).toContain(join(d, readdirSync(d)[0]!));
    expect(rep).toMatchObject({ format: 'nvconform-crash/1', message: 'cannot read x of undefined', name: 'TypeError', cwd: ROOT, node: process.version, nvconform: '0.1.0' });
    expect(rep.argv).toEqual(['check', '--impl', 'boom', '--runs', '5', '--property', 'architectural', '--seed', '7']);
    expect(rep.stack).toMatch(/TypeError: cannot read x of undefined\n\s+at /);
    expect(rep.inputs).toMatchObject({ command: 'check', seed: 7 });
    const t = decodeToken(rep.running.token);
    expect(t.ops).toHaveLength(3); // two ops done, the third being executed
    expect(rep.running.ops).toBe(3);
  });

  it('thrown from a callback outside any command (uncaught): exit 3 with a crash report', async () => {
    const d = join(dir, 'uncaught');
    const r = await withBoom(['run', 'examples/vhe-cval-basic.json', '--model', 'boom'], "if (n === 1) setTimeout(() => { throw new RangeError('late failure'); }, 10)", d);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/^nvconform: internal error \(a bug in nvconform, please report it\): late failure; crash report: /m);
    expect(reportIn(d)).toMatchObject({ message: 'late failure', name: 'RangeError' });
  });

  it('the report that cannot be written is said so, still exit 3', async () => {
    const r = await withBoom(['run', 'examples/vhe-cval-basic.json', '--model', 'boom'], 'throw new Error("x")', '/dev/null/nowhere');
    expect(r.status).toBe(3);
    expect(oneLine(r.stderr)).toMatch(/^nvconform: internal error .*: x; crash report not written \(ENOTDIR\)$/);
  });
});

describe('--help', () => {
  it('documents the four exit statuses', async () => {
    const r = await cli(['--help']);
    expect(r.status).toBe(0);
    for (const s of ['0  pass', '1  a counterexample', '2  bad input or usage', '3  an internal error']) expect(r.stdout).toContain(s);
  });
});
