/**
 * `nvconform run` with the built-in implementation models. Runs the built CLI (dist/ must be
 * built: `npx tsc -p tsconfig.build.json`).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const EXAMPLE = 'examples/vhe-cval-basic.json';

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['dist/src/cli/main.js', ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, error: r.error };
}

/** The table rows (after the header and the rule) of a `run` output. */
/** The table's rows: after the header lines, up to the host timer map that --verbose prints below it. */
const rows = (out: string): string[] => out.split('\n\n')[0]!.trimEnd().split('\n').slice(3);

describe('nvconform run --model nv2 / nv', () => {
  it('--model nv2 --verbose: exit 0, every op printed, VNCR loads/stores at 0x168/0x170 and the traps shown', () => {
    const r = cli('run', EXAMPLE, '--model', 'nv2', '--verbose');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^model nv2 .*layout architected/);
    expect(rows(r.stdout)).toHaveLength(11);
    expect(r.stdout).toContain('store VNCR[0x168] (CNTV_CVAL_EL0)');
    expect(r.stdout).toContain('store VNCR[0x170] (CNTV_CTL_EL0)');
    expect(r.stdout).toContain('trap to host (HCR_EL2.NV)');
    expect(r.stdout).toContain('read hw CNTV_CTL_EL0');
    // the exit publishes ISTATUS into the page
    expect(r.stdout).toMatch(/VNCR\[0x170\] CNTV_CTL_EL0: 0x1 -> 0x5/);
  });

  it('--model nv --verbose: exit 0, every vEL2 timer access traps, no VNCR page', () => {
    const r = cli('run', EXAMPLE, '--model', 'nv', '--verbose');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^model nv /);
    expect(r.stdout).not.toContain('VNCR[');
    const vel2Access = rows(r.stdout).filter((l) => /^\d+\s+vEL2\s+(msr|mrs)\s/.test(l));
    expect(vel2Access).toHaveLength(6);
    for (const l of vel2Access) expect(l).toContain('trap to host (HCR_EL2.NV)');
  });

  it('--layout tval-in-vncr: the TVAL_EL02 reads are loads from the TVAL slot 0x1f0', () => {
    const r = cli('run', EXAMPLE, '--model', 'nv2', '--layout', 'tval-in-vncr', '--verbose');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('layout tval-in-vncr');
    expect(r.stdout).toContain('load VNCR[0x1f0] (CNTV_TVAL_EL0)');
    expect(r.stdout).not.toMatch(/mrs\s+CNTV_TVAL_EL02.*trap to host/);
  });

  it('--host-ecv-traps: the _EL02 CTL/CVAL accesses trap on CNTHCTL_EL2.EL1NVVCT', () => {
    const r = cli('run', EXAMPLE, '--model', 'nv2', '--host-ecv-traps', '--verbose');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^model nv2 .*host-ecv-traps/);
    expect(r.stdout).toContain('trap to host (CNTHCTL_EL2.EL1NVVCT)');
    expect(r.stdout).not.toMatch(/(store|load) VNCR\[0x1(68|70)\]/);
  });

  it('--json on nv2 gives one observation per op, and the vhe example agrees with the reference except the lagging disable', () => {
    type Doc = { observations: { irq: string[]; value?: string; elapsed?: string }[] };
    const impl = cli('run', EXAMPLE, '--model', 'nv2', '--json');
    const ref = cli('run', EXAMPLE, '--model', 'reference', '--json');
    expect(impl.status).toBe(0);
    expect(ref.status).toBe(0);
    const a = (JSON.parse(impl.stdout) as Doc).observations;
    const e = (JSON.parse(ref.stdout) as Doc).observations;
    expect(a).toHaveLength(11);
    for (let i = 0; i < 9; i++) expect(a[i], `op ${i}`).toEqual(e[i]);
    // op 9 stores CTL=0 to the page: the line stays up until the trapped read at op 10
    expect(a[9]!.irq).toEqual(['vtimer']);
    expect(e[9]!.irq).toEqual([]);
    expect(a[10]!.irq).toEqual([]);
  });

  it('--layout nosuch: exit 2, one line on stderr naming the layout, nothing on stdout', () => {
    const r = cli('run', EXAMPLE, '--model', 'nv2', '--layout', 'nosuch');
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.endsWith('\n')).toBe(true);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('nosuch');
  });

  it('examples/nv2-tval-slot-stale.json with --layout tval-in-vncr reads back the stale TVAL 0x10 where the reference gives 0xb', () => {
    type Doc = { observations: { irq: string[]; value?: string }[] };
    const f = 'examples/nv2-tval-slot-stale.json';
    const impl = cli('run', f, '--model', 'nv2', '--layout', 'tval-in-vncr', '--json');
    const ref = cli('run', f, '--model', 'reference', '--json');
    expect(impl.status, impl.stderr).toBe(0);
    expect((JSON.parse(impl.stdout) as Doc).observations[2]!.value).toBe('0x10');
    expect((JSON.parse(ref.stdout) as Doc).observations[2]!.value).toBe('0xb');
  });

  it('every examples/nv2-*.json trace is valid input: the reference runs it with exit 0', () => {
    const files = readdirSync('examples').filter((f) => /^nv2-.*\.json$/.test(f));
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const f of files) {
      const r = cli('run', `examples/${f}`, '--model', 'reference');
      expect(r.status, `${f}: ${r.stderr}`).toBe(0);
    }
  });
});
