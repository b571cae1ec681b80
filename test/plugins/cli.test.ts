/**
 * The CLI with external implementations: runs `node dist/src/cli/main.js run ...` with a module
 * plug-in and with an exec: process. dist/ must be built (`npm test` builds it first): this file
 * does not rebuild it, since rewriting dist/ while other test files run the CLI makes them import
 * half-written modules.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';

const CLI = 'dist/src/cli/main.js';

function nvconform(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is not built: run npm run build (npm test does)`);
});

describe('nvconform run with external implementations', () => {
  it('--model exec:"python3 examples/exec/trap_all.py" exits 0 with the architecture\'s observations', () => {
    const r = nvconform(['run', 'examples/vhe-cval-basic.json', '--model', 'exec:python3 examples/exec/trap_all.py']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('model exec:python3 examples/exec/trap_all.py');
    expect(r.stdout).toMatch(/wfi\s+0x100\s+elapsed=0x8 irq=\[vtimer\]/);
  });

  it('--model examples/plugin/trap-all-host.mjs exits 0, and --verbose shows its detail()', () => {
    const r = nvconform(['run', 'examples/vhe-cval-basic.json', '--model', 'examples/plugin/trap-all-host.mjs', '--verbose']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('trap to host (mrs CNTV_TVAL_EL02)');
  });

  it('a command that does not exist: exit 2, one line', () => {
    const r = nvconform(['run', 'examples/vhe-cval-basic.json', '--model', 'exec:no-such-command-nvc']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`nvconform: exec:no-such-command-nvc: cannot start 'no-such-command-nvc': command not found\n`);
  });

  it('a process that hangs: exit 1 within the timeout, one line naming the op', () => {
    const t0 = Date.now();
    const r = nvconform(['run', 'examples/vhe-cval-basic.json', '--model', 'exec:node test/plugins/fixtures/misbehave.mjs hang 2'], { NVCONFORM_EXEC_TIMEOUT_MS: '300' });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(r.status).toBe(1);
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(r.stderr).toMatch(/^nvconform: .*no answer to ops\[2\] within 300 ms \(last output: /);
  });

  it('a plug-in returning a malformed observation: exit 1, one line', () => {
    const r = nvconform(['run', 'examples/vhe-cval-basic.json', '--model', 'test/plugins/fixtures/plugins/bad-obs.mjs']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^nvconform: .*step\(ops\[3\]\) returned \{"irq":"x"\}: irq: expected a list of timer names, got "x"\n$/);
  });

  it('a module that is not a plug-in: exit 2, one line', () => {
    const r = nvconform(['run', 'examples/vhe-cval-basic.json', '--model', 'test/plugins/fixtures/plugins/no-factory.mjs']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^nvconform: plug-in .*no-factory\.mjs: the module exports no createImplementation function.*\n$/);
  });
});
