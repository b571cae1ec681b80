/**
 * `nvconform xcheck qemu` and `nvconform xcheck routing` as a user runs them (the built CLI). The
 * failure cases run everywhere; the QEMU ones skip, with the reason, without QEMU 10 and the image.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findQemu } from '../../src/xcheck/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const found = findQemu();
if (!found.ok) console.warn(`test/xcheck/cli.test.ts: skipping the QEMU runs of the CLI: ${found.reason}`);

function cli(args: string[], env: NodeJS.ProcessEnv = process.env): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000, env, maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const withoutPerf = (s: string): string => s.split('\n').filter((l) => !l.startsWith('performance:')).join('\n');

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nvconform-xcheck-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('nvconform xcheck: failures are one line and exit 2', () => {
  it('no QEMU on PATH: names the set-up script', () => {
    for (const sub of [['qemu'], ['routing']]) {
      const r = cli(['xcheck', ...sub], { PATH: join(dir, 'empty') });
      expect(r.status).toBe(2);
      expect(r.stderr).toBe('nvconform: xcheck: QEMU 10 not found; run scripts/setup-qemu.sh\n');
      expect(r.stdout).toBe('');
    }
  });

  it('--qemu naming something that is not QEMU', () => {
    const fake = join(dir, 'not-qemu');
    writeFileSync(fake, '#!/bin/sh\necho hello\n', { mode: 0o755 });
    const r = cli(['xcheck', 'qemu', '--qemu', fake]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`nvconform: xcheck: --qemu ${fake} is not a runnable qemu-system-aarch64\n`);
  });

  it('bad flags', () => {
    for (const args of [['xcheck', 'qemu', '--runs', '0'], ['xcheck', 'qemu', '--guest', 'x'], ['xcheck', 'nope']]) {
      const r = cli(args);
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe.skipIf(!found.ok)('nvconform xcheck with QEMU', () => {
  it('qemu --runs 40: passes, and the same seed prints the same report (but for the performance line)', () => {
    const a = cli(['xcheck', 'qemu', '--runs', '40', '--seed', '3']);
    expect(a.stderr).toBe('');
    expect(a.status).toBe(0);
    expect(a.stdout).toMatch(/^nvconform xcheck qemu: QEMU emulator version 1\d\./);
    expect(a.stdout).toMatch(/^ran +40 traces \(\d+ ops\) at real EL2 and EL1 in QEMU/m);
    expect(a.stdout).toMatch(/^verdict: pass: QEMU agrees with the reference on \d+ of 40 traces; every disagreement \(\d+\) is a known QEMU behaviour$/m);
    expect(a.stdout).toMatch(/^performance: 40 traces, \d+ ops in \d+ ms/m);
    const b = cli(['xcheck', 'qemu', '--runs', '40', '--seed', '3']);
    expect(withoutPerf(b.stdout)).toBe(withoutPerf(a.stdout));
  });

  it('qemu --json: the figures, per-class counts and each disagreement, each with a replay token that replays it', () => {
    const r = cli(['xcheck', 'qemu', '--runs', '120', '--json']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as {
      verdict: string; figures: { ran: number; agree: number; explained: number; unexplained: number; classes: Record<string, number> };
      disagreements: { index: number; class: string; op: number; token: string }[];
    };
    expect(j.verdict).toBe('pass');
    expect(j.figures).toMatchObject({ ran: 120, unexplained: 0 });
    expect(j.figures.agree + j.figures.explained).toBe(120);
    expect(j.disagreements).toHaveLength(j.figures.explained);
    expect(Object.values(j.figures.classes).reduce((a, b) => a + b, 0)).toBe(j.figures.explained);
    const d = j.disagreements[0]!;
    const rep = cli(['xcheck', 'qemu', '--replay', d.token]);
    expect(rep.status).toBe(0);
    expect(rep.stdout).toContain(`first    op ${d.op}: the reference and QEMU differ in `);
    expect(rep.stdout).toContain(`(${d.class})`);
    expect(rep.stdout).toMatch(/^verdict: pass: the disagreement is a known QEMU behaviour/m);
  });

  it('qemu --replay FILE runs a trace file op by op', () => {
    const r = cli(['xcheck', 'qemu', '--replay', 'examples/vhe-cval-basic.json']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^nvconform xcheck qemu --replay: examples\/vhe-cval-basic.json; \d+ ops;/);
    expect(r.stdout).toMatch(/^verdict: pass: QEMU agrees with the reference on every op$/m);
  });

  it('qemu --replay of each xcheck/findings trace: the QEMU bug it is named after, after an ERET too', () => {
    const flip = cli(['xcheck', 'qemu', '--replay', 'xcheck/findings/ecv-flip.json']);
    expect(flip.status).toBe(0);
    expect(flip.stdout).toMatch(/^verdict: pass: the disagreement is a known QEMU behaviour \(ecv-flip\)$/m);
    // At vEL1, after the ERET: the reference reads CTL 0x1 (not met), QEMU still 0x5.
    expect(flip.stdout).toMatch(/^ {3}6 +vEL1 .* mrs +CNTP_CTL_EL0 +value=0x1 irq=\[\] +value=0x5 irq=\[ptimer\]/m);
    const over = cli(['xcheck', 'qemu', '--replay', 'xcheck/findings/offset-overflow.json']);
    expect(over.status).toBe(0);
    expect(over.stdout).toMatch(/^verdict: pass: the disagreement is a known QEMU behaviour \(offset-overflow\)$/m);
    // QEMU's wfi at vEL1 sleeps to its limit: the timer never fires.
    expect(over.stdout).toMatch(/^ {3}7 +vEL1 .* wfi .* elapsed=0x0 irq=\[vtimer\] +elapsed=0x10000 irq=\[\] woken by limit/m);
  });

  it('qemu --replay of WFIT at vEL2 and vEL1, with CNTVOFF_EL2, an already passed deadline and a timer line: agrees with the reference', () => {
    const r = cli(['xcheck', 'qemu', '--replay', 'test/xcheck/fixtures/wfit.json']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^verdict: pass: QEMU agrees with the reference on every op$/m);
    expect(r.stdout).toMatch(/^ {3}5 +vEL1 .* wfit .* woken by deadline/m);
    expect(r.stdout).toMatch(/^ {3}11 +vEL2 .* wfit .* woken by line/m);
  });

  it('qemu --replay xcheck/findings/wfit-overflow.json: QEMU\'s WFIT sleeps to the guest\'s 2^40-count safety limit (wfit-overflow)', () => {
    const r = cli(['xcheck', 'qemu', '--replay', 'xcheck/findings/wfit-overflow.json']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^verdict: pass: the disagreement is a known QEMU behaviour \(wfit-overflow\)$/m);
    expect(r.stdout).toMatch(/^ {2}>1 +vEL2 .* wfit +0x201000 +elapsed=0x[0-9a-f]+ irq=\[\] +elapsed=0x10000000000 irq=\[\] woken by limit/m);
  });

  it('routing: every cell, one row each, all agree', () => {
    const r = cli(['xcheck', 'routing']);
    expect(r.status).toBe(0);
    // 28 names (the timer registers and HCR_EL2) x read/write x NV1 x host E2H x 10 trap settings x ECVEn.
    expect(r.stdout.split('\n').filter((l) => /^(CNT|HCR_)\S+ +(read|write) /.test(l))).toHaveLength(4480);
    expect(r.stdout).toMatch(/^4480 of 4480 cells agree$/m);
    const j = JSON.parse(cli(['xcheck', 'routing', '--json']).stdout) as { verdict: string; cells: number; agree: number; ecvEn: { pairs: number; same: number } };
    expect(j).toMatchObject({ verdict: 'pass', cells: 4480, agree: 4480, ecvEn: { pairs: 2240, same: 2240 } });
  });
});
