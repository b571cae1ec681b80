/**
 * `nvconform layouts` and `layouts --explore` as a user runs them (the built CLI), and the
 * explorer's independence from any knowledge of which register is special.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { workload } from '../../src/layouts/workloads.js';

const cli = (...args: string[]) => spawnSync('node', ['dist/src/cli/main.js', ...args], { encoding: 'utf8' });

interface LayoutRow {
  name: string;
  guest: string;
  verdicts: { architectural: string; deferred: string };
  counterexampleOps: number | null;
  explanation: string | null;
  trapsPer1000: { linux: number; tval: number; random: number };
}

/** A physical CPU without FEAT_ECV: there the layouts are compared on their own merits (no CNTPOFF_EL2 in the page for a vCPU without it). */
const NO_ECV = 'vhe,wfxt,nv2p1';

describe('nvconform layouts', () => {
  const r = cli('layouts', '--json', '--guest', 'vhe', '--host-cpu', NO_ECV, 'examples/layouts/tval-spare.yaml');
  const doc = JSON.parse(r.stdout) as { layouts: LayoutRow[]; baseline: Record<string, LayoutRow['trapsPer1000']> };
  const row = (name: string) => doc.layouts.find((l) => l.name === name)!;

  it('exits 0 and judges the catalogue plus the user file', () => {
    expect(r.status).toBe(0);
    expect(doc.layouts.map((l) => l.name)).toEqual(expect.arrayContaining(['architected', 'tval-in-vncr', 'trap-all', 'tval-spare']));
    for (const l of doc.layouts) expect(Object.keys(l.trapsPer1000).sort()).toEqual(['linux', 'random', 'tval']);
  });

  it('the architected layout (VHE guest) lags architecturally but meets the deferred contract', () => {
    expect(row('architected').verdicts).toEqual({ architectural: 'fail', deferred: 'pass' });
    expect(row('architected').counterexampleOps).toBeGreaterThan(0);
  });

  it('a TVAL slot is refuted under the deferred contract with at most 3 ops and an explanation', () => {
    for (const name of ['tval-in-vncr', 'tval-spare']) {
      expect(row(name).verdicts.deferred).toBe('fail');
      expect(row(name).counterexampleOps).toBeLessThanOrEqual(3);
      expect(row(name).explanation).toMatch(/TVAL|CVAL/);
    }
  });

  it('no timer slots costs what FEAT_NV alone costs', () => {
    expect(row('trap-all').trapsPer1000).toEqual(doc.baseline.vhe);
  });

  it('the architected layout saves traps on the linux workload against the baseline', () => {
    expect(row('architected').trapsPer1000.linux).toBeLessThan(doc.baseline.vhe!.linux / 10);
  });

  it('on the most capable CPU (the default), every layout with a CNTPOFF_EL2 slot fails at a 1-op read from a vCPU without ECV; trap-all passes', () => {
    const d = JSON.parse(cli('layouts', '--json', '--guest', 'vhe').stdout) as { layouts: LayoutRow[] };
    const at = (name: string) => d.layouts.find((l) => l.name === name)!;
    for (const name of ['architected', 'offsets-only', 'tval-in-vncr']) {
      expect(at(name).verdicts.deferred, name).toBe('fail');
      expect(at(name).counterexampleOps, name).toBe(1);
      expect(at(name).explanation, name).toMatch(/^op #0 `mrs CNTPOFF_EL2` at vEL2, served from VNCR slot 0x1a8, gave no fault where the architecture gives a fault/);
    }
    expect(at('trap-all').verdicts).toEqual({ architectural: 'pass', deferred: 'pass' });
  }, 120_000);

  it('on a CPU with ECV but without FEAT_NV2p1, no timer slots is still refuted for a VHE guest, through the CNTKCTL_EL1 alias', () => {
    // Neither NV nor NV2 traps CNTKCTL_EL1 (the E2H alias of CNTHCTL_EL2) from a VHE guest hypervisor; without NV2p1 its EL1PCTEN/EL1PTEN bits are lost.
    const d = JSON.parse(cli('layouts', '--json', '--guest', 'vhe', '--host-cpu', 'ecv,ecv-poff,wfxt,vhe').stdout) as { layouts: LayoutRow[] };
    const t = d.layouts.find((l) => l.name === 'trap-all')!;
    expect(t.verdicts.deferred).toBe('fail');
    expect(t.explanation).toMatch(/`mrs CNTKCTL_EL1` at vEL2, served by the hardware register/);
  }, 120_000);

  it('a bad layout file is one line on stderr and exit 2', () => {
    const bad = cli('layouts', 'examples/layouts/bad/misaligned.yaml');
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/misaligned\.yaml:\d+: slots\[\d\]\.offset/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });

  it('--explore with files is a usage error', () => {
    const bad = cli('layouts', '--explore', 'examples/layouts/tval-spare.yaml');
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('nvconform layouts --explore', () => {
  it('finds for a VHE guest on a CPU without ECV that CTL, CVAL and the offsets can hold slots and no TVAL can, each with a short trace', () => {
    const r = cli('layouts', '--explore', '--guest', 'vhe', '--host-cpu', NO_ECV, '--json');
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout) as { explore: { guest: string; maximal: string[][]; excluded: { reg: string; counterexample: { ops: unknown[] } | null; explanation: string }[]; checked: number }[] };
    const e = doc.explore[0]!;
    expect(e.checked).toBe(256);
    expect(e.maximal.map((m) => [...m].sort())).toEqual([
      ['CNTPOFF_EL2', 'CNTP_CTL_EL0', 'CNTP_CVAL_EL0', 'CNTVOFF_EL2', 'CNTV_CTL_EL0', 'CNTV_CVAL_EL0'],
    ]);
    expect(e.excluded.map((x) => x.reg).sort()).toEqual(['CNTP_TVAL_EL0', 'CNTV_TVAL_EL0']);
    for (const x of e.excluded) {
      expect(x.counterexample!.ops.length).toBeLessThanOrEqual(3);
      expect(x.explanation.length).toBeGreaterThan(20);
    }
  }, 400_000);

  it('the explorer knows nothing about TVAL: the answer must come from the checker', () => {
    for (const f of ['src/layouts/explore.ts', 'src/layouts/evaluate.ts']) {
      const code = readFileSync(f, 'utf8').split('\n').filter((l) => !/^\s*(\/\/|\*|\/\*)/.test(l)).join('\n');
      expect(code, f).not.toMatch(/TVAL/i);
    }
  });
});

describe('workloads', () => {
  const accesses = (name: 'linux' | 'tval', reg: RegExp) =>
    workload(name, 'vhe').ops.filter((o) => (o.op === 'msr' || o.op === 'mrs') && reg.test(o.reg)).length;
  it('linux programs the timer through CVAL and CTL only; tval uses TVAL', () => {
    expect(accesses('linux', /TVAL/)).toBe(0);
    expect(accesses('linux', /CVAL/)).toBeGreaterThan(0);
    expect(accesses('tval', /TVAL/)).toBeGreaterThan(0);
  });
});
