/**
 * The exhaustive phase: it explores every trace of the alphabet up to its depth (counted, and
 * checked against brute force on a small alphabet), merging states soundly; its counterexamples are
 * shortest ones; an implementation without snapshots is explored by replaying prefixes, with the
 * same answer.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Implementation } from '../../models/arch/implementation.js';
import type { Op, TraceConfig } from '../../models/arch/vocabulary.js';
import { loadLayout } from '../../models/layouts/load.js';
import { Nv2Model } from '../../models/nv2/model.js';
import { PROPERTIES } from '../../properties/index.js';
import { ALPHABET, VALUE_CLASSES, roots, type Alphabet, type Letter } from '../../src/check/alphabet.js';
import { depthNeeded, exhaustive, firstFound, mergeByFamily, type ExhaustiveOptions, type Found } from '../../src/check/exhaustive.js';
import { asGenOps, resolveOp } from '../../src/engine/abstract-ops.js';
import { Runner, runTraceSync } from '../../src/engine/runner.js';
import { ReferenceModel } from '../../models/reference/reference.js';
import { makeMutant, MUTANTS } from './mutants.js';

const L = (name: string, op: Letter['ops'][number]): Letter => ({ name, ops: [op] });
/** A small alphabet: arm the EL1 virtual timer through the page, let time pass, a host entry, enter and leave the nested guest, read. */
const SMALL: Alphabet = {
  name: 'test-small',
  families: [{
    name: 'vtimer',
    letters: [
      L('msr CNTV_CVAL_EL02 now+1', { k: 'msr', reg: 'CNTV_CVAL_EL02', val: { k: 'now', d: 1n }, alias: true }),
      L('msr CNTV_CTL_EL02 0x1', { k: 'msr', reg: 'CNTV_CTL_EL02', val: { k: 'abs', v: 1n }, alias: true }),
      L('mrs CNTV_CTL_EL02', { k: 'mrs', reg: 'CNTV_CTL_EL02', alias: true }),
      L('tick to the next deadline', { k: 'tickTo', rel: 0n }),
      L('preempt 0x0', { k: 'preempt', by: 0n }),
      L('eret', { k: 'eret' }),
      L('exit', { k: 'exit' }),
    ],
  }],
};
// On a CPU without FEAT_ECV: there a virtual CPU without it does not read CNTPOFF_EL2 from the page (a finding the default suite shows).
const nv2 = (): Nv2Model => new Nv2Model({ layout: loadLayout('architected'), hostCpu: ['wfxt', 'vhe', 'nv2p1'] });

/** Every letter sequence of length 1..depth valid where it stands, from every root: brute force. */
function bruteForce(alphabet: Alphabet, rootsOf: readonly TraceConfig[], depth: number, visit?: (config: TraceConfig, ops: Op[]) => void): number {
  let n = 0;
  const go = (config: TraceConfig, prefix: Op[], d: number): void => {
    if (d === depth) return;
    for (const letter of alphabet.families[0]!.letters) {
      const ref = new ReferenceModel(config);
      for (const op of prefix) ref.step(op);
      const op = resolveOp(letter.ops[0]!, ref);
      if (!op) continue;
      const ops = [...prefix, op];
      n++;
      visit?.(config, ops);
      go(config, ops, d + 1);
    }
  };
  for (const c of rootsOf) go(c, [], 0);
  return n;
}

/** An nv2 model without snapshots or keys: explored by replaying prefixes, never merged. */
function noSnapshots(m: Nv2Model): Implementation {
  return { name: 'replayed', declaration: m.declaration, reset: (c) => m.reset(c), step: (op) => m.step(op), detail: () => m.detail() };
}

describe('the exhaustive phase', () => {
  it('covers exactly the traces brute force enumerates (merged and not merged)', async () => {
    const o = { depth: 4, guest: 'vhe' as const, ecv: false, alphabet: SMALL };
    const expected = bruteForce(SMALL, roots(o), 4);
    const merged = await exhaustive(nv2(), PROPERTIES.deferred, o);
    expect(merged.counterexample).toBeUndefined();
    expect(merged.completedDepth).toBe(4);
    expect(merged.traces).toBe(expected);
    expect(merged.merged).toBe(true);
    expect(merged.states).toBeLessThan(merged.transitions); // states were merged
    const tree = await exhaustive(noSnapshots(nv2()), PROPERTIES.deferred, o);
    expect(tree.merged).toBe(false);
    expect(tree.traces).toBe(expected);
    expect(tree.states).toBe(expected + roots(o).length);
  });

  it.each(['publish-never', 'soft-never-armed', 'merge-ignores-cval', 'never-merge'])('refutes %s with a shortest counterexample: no shorter trace of the alphabet fails', async (name) => {
    const m = MUTANTS.find((x) => x.name === name)!;
    const impl = () => makeMutant(m, { layout: loadLayout('architected') });
    const o = { depth: 4, guest: 'vhe' as const, ecv: false, alphabet: SMALL };
    const r = await exhaustive(impl(), PROPERTIES.deferred, o);
    expect(r.counterexample, `${name} not refuted within depth 4 of the small alphabet`).toBeDefined();
    const len = r.counterexample!.ops.length;
    expect(r.counterexample!.violation!.index).toBe(len - 1);
    expect(r.completedDepth).toBe(len - 1);
    // Brute force: every trace shorter than the counterexample passes.
    let shorterFailing = 0;
    bruteForce(SMALL, roots(o), len - 1, (config, ops) => {
      const runner = new Runner(impl(), { property: PROPERTIES.deferred });
      if (runTraceSync(runner, config, asGenOps(ops)).violation) shorterFailing++;
    });
    expect(shorterFailing).toBe(0);
    // Without snapshots (replaying prefixes) the same counterexample.
    const replayed = await exhaustive(noSnapshots(impl()), PROPERTIES.deferred, o);
    expect(replayed.counterexample?.ops).toEqual(r.counterexample!.ops);
  });

  it('a budget stops it and says which depth was completed', async () => {
    const r = await exhaustive(nv2(), PROPERTIES.deferred, { depth: 3, guest: 'vhe', maxTransitions: 2000 });
    expect(r.transitions).toBe(2000);
    expect(r.completedDepth).toBeLessThan(3);
  });

  it('the alphabet is data: every family has reads, writes of every value class, time and EL changes', () => {
    for (const f of ALPHABET.families) {
      const kinds = new Set(f.letters.flatMap((l) => l.ops.map((o) => o.k)));
      expect(f.letters.every((l) => l.ops.length === 1), 'one op per letter: a depth is a number of ops').toBe(true);
      for (const k of ['mrs', 'msr', 'tick', 'tickTo', 'wfi', 'preempt', 'eret', 'exit']) expect(kinds, `${f.name}: ${k}`).toContain(k);
    }
    expect(new Set(ALPHABET.families.flatMap((f) => f.letters.map((l) => l.name))).size).toBeGreaterThan(80);
  });

  it('is deterministic: the same options give the same exploration', async () => {
    const a = await exhaustive(nv2(), PROPERTIES.architectural, { depth: 2, guest: 'nvhe' });
    const b = await exhaustive(nv2(), PROPERTIES.architectural, { depth: 2, guest: 'nvhe' });
    const strip = ({ ms: _m, counterexample, ...x }: typeof a) => ({ ...x, ce: counterexample?.ops });
    expect(strip(a)).toEqual(strip(b));
  });
});

describe('one search per family, merged (what --workers runs)', () => {
  const strip = ({ ms: _m, counterexample, sideFailure: _s, progress: _p, foundAt: _f, ...x }: Awaited<ReturnType<typeof exhaustive>>) =>
    ({ ...x, ce: counterexample?.ops, ceConfig: counterexample?.config });
  /** The searches of every family, each told (as check does) how deep it need go once another has a counterexample, in the order given. */
  async function byFamily(impl: () => Implementation, p: keyof typeof PROPERTIES, o: ExhaustiveOptions, order: readonly number[]) {
    const parts: Awaited<ReturnType<typeof exhaustive>>[] = [];
    const limits: (number | undefined)[] = ALPHABET.families.map(() => undefined);
    let best: Found | undefined;
    for (const family of order) {
      const r = await exhaustive(impl(), PROPERTIES[p], { ...o, family, depthLimit: () => limits[family] });
      parts[family] = r;
      if (r.foundAt === undefined) continue;
      const f = { at: r.foundAt, family };
      if (!firstFound(f, best)) continue;
      best = f;
      for (let g = 0; g < limits.length; g++) if (g !== family) limits[g] = depthNeeded(f, g);
    }
    return mergeByFamily(parts);
  }
  const cases: [string, () => Implementation, keyof typeof PROPERTIES, ExhaustiveOptions][] = [
    ['a pass', nv2, 'deferred', { depth: 2, guest: 'vhe' }],
    ['a counterexample at depth 2', nv2, 'deferred', { depth: 2, guest: 'nvhe' }],
    ['a counterexample at depth 1', nv2, 'architectural', { depth: 2, guest: 'vhe' }],
    ['a mutant', () => makeMutant(MUTANTS.find((m) => m.name === 'never-merge')!, { layout: loadLayout('architected'), hostCpu: ['vhe', 'wfxt', 'nv2p1'] }), 'deferred', { depth: 2, guest: 'vhe' }],
  ];
  for (const [what, impl, p, o] of cases) {
    it(`gives the answer and the counts of one search of all: ${what}`, async () => {
      const whole = strip(await exhaustive(impl(), PROPERTIES[p], o));
      const n = ALPHABET.families.length;
      const forward = [...Array(n).keys()];
      expect(strip(await byFamily(impl, p, o, forward))).toEqual(whole);
      // Whatever order the searches finish in (one worker, or two racing).
      expect(strip(await byFamily(impl, p, o, [...forward].reverse()))).toEqual(whole);
      expect(strip(await byFamily(impl, p, o, [2, 5, 0, 3, 1, 4].filter((f) => f < n)))).toEqual(whole);
    }, 60_000);
  }
});

describe('an alphabet without families', () => {
  it('is one search of nothing in check, as before the search was split by family', async () => {
    const { check, DEFAULT_CHECK_OPTIONS } = await import('../../src/check/check.js');
    const r = await check({ ...DEFAULT_CHECK_OPTIONS, impl: 'nv2', layout: 'trap-all', properties: ['architectural'], runs: 5, alphabet: { name: 'empty', families: [] } });
    expect(r.results[0]!.exhaustive).toMatchObject({ alphabet: 'empty', families: 0, states: 0, transitions: 0 });
  });
});

describe('docs/exhaustive.md', () => {
  const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'exhaustive.md'), 'utf8');
  const rows = (header: string): string[][] => {
    const lines = doc.split('\n');
    const i = lines.findIndex((l) => l.startsWith(`| ${header} |`));
    const out: string[][] = [];
    for (let j = i + 2; j < lines.length && lines[j]!.startsWith('|'); j++) {
      out.push(lines[j]!.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, '|')));
    }
    return out;
  };
  const names = (cell: string): string[] => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

  it('lists every family with its registers and letter count, as the code has them', () => {
    const documented = rows('family').map(([name, regs, n]) => ({ name, regs: names(regs!), n: Number(n) }));
    expect(documented).toEqual(ALPHABET.families.map((f) => ({
      name: f.name, regs: [...new Set(f.letters.flatMap((l) => (l.ops[0]!.k === 'mrs' ? [l.ops[0]!.reg] : [])))], n: f.letters.length,
    })));
  });

  it('lists every value class as the code has it', () => {
    expect(Object.fromEntries(rows('value class').map(([k, v]) => [names(k!)[0], names(v!)]))).toEqual(
      Object.fromEntries(Object.entries(VALUE_CLASSES).map(([k, v]) => [k, v.map(([l]) => l)])));
  });
});
