/**
 * suites/kvm.json: each expected failure of the kvm host profile fails for the reason its entry
 * gives (the counterexample goes through the register named), and each expected pass passes; a
 * suite entry's `exclude` is validated like --exclude.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../models/arch/errors.js';
import { parseSuite, runSuite } from '../../src/check/suite.js';

const ROOT = join(import.meta.dirname, '..', '..');
const text = readFileSync(join(ROOT, 'suites', 'kvm.json'), 'utf8');

/** The register each failing entry's counterexample must end at, by entry index. */
const FAILS_AT: Record<number, RegExp> = {
  0: /^CNTPOFF_EL2$/,
  1: /^CNTVOFF_EL2$/,
  2: /^CNTP_CTL_EL02$/,
  3: /^CNTVCT_EL0$/,
  4: /^tick$/,
};

describe('suites/kvm.json', () => {
  it('every verdict as expected, each failure at the register its entry names', async () => {
    const suite = parseSuite(text, 'suites/kvm.json');
    const r = await runSuite(suite, { runs: 300, seed: 42, maxOps: 40, stats: false });
    expect(r.entries.map((e) => [e.entry.name, e.result.verdict])).toEqual(suite.entries.map((e) => [e.name, e.expect]));
    for (const [i, reg] of Object.entries(FAILS_AT)) {
      const ce = r.entries[Number(i)]!.result.counterexample!;
      const last = ce.ops[ce.violation!.index]!;
      expect(last.op === 'mrs' || last.op === 'msr' ? last.reg : last.op, `entry #${i}`).toMatch(reg);
    }
    // The ISTATUS finding: written with ISTATUS set and masked, read back with ISTATUS clear after the host ran.
    const istatus = r.entries[2]!.result.counterexample!;
    const obs = istatus.observed[istatus.violation!.index]!;
    expect(obs.value! & 4n).toBe(0n);
    const exp = istatus.expected[istatus.violation!.index]!;
    expect(exp.value! & 4n).toBe(4n);
    expect((exp.unknown ?? 0n) & 4n).toBe(0n);
  }, 120_000);

  it('an entry\'s exclude names registers nvconform models', () => {
    const bad = JSON.stringify({ format: 'nvconform-suite/1', entries: [{ name: 'x', property: 'deferred', expect: 'pass', exclude: ['CNTPOFF_EL2', 'NOSUCH'] }] });
    expect(() => parseSuite(bad, 's.json')).toThrow(InputError);
    expect(() => parseSuite(bad, 's.json')).toThrow('s.json: entries[0].exclude[1]: "NOSUCH" is not a register nvconform models');
  });
});
