/**
 * `layouts --explore`: which sets of registers can hold VNCR slots and still satisfy the deferred
 * contract? Every subset of the registers that may take a slot is made into a layout and
 * checked; nothing here knows which register is special. The answer (maximal passing sets, the
 * cheapest of them, and a minimal trace for every register that no passing set contains) comes
 * from the checker.
 */
import { VNCR_PAGE_BYTES, type Layout } from '../../models/arch/layout.js';
import { REGISTERS, SLOT_KEYS } from '../../models/arch/registers.js';
import { architectedOffsetOf, architectedRegisterAt } from '../../models/arch/vncr.js';
import type { GuestMode } from '../../models/arch/vocabulary.js';
import { check, DEFAULT_CHECK_OPTIONS, replayInfo, type ExhaustiveSummary, type PropertyResult } from '../check/check.js';
import { encodeToken } from '../trace/token.js';
import { MACRO_ALPHABET } from '../check/alphabet.js';
import type { Outcome } from '../engine/runner.js';
import { pinsOf, replayOn } from './evaluate.js';
import { trapCost, type LayoutOptions, type TrapCost } from './evaluate.js';
import { WORKLOADS, type WorkloadName } from './workloads.js';

/** Each register's slot: its architected offset if it has one, else the lowest offsets no register owns. */
/**
 * The registers the explorer decides about by default: the slot keys of the timer views and the
 * offsets (the question the project started from). HCR_EL2, a control register with a slot of
 * its own, is in no candidate (its accesses trap); `keys` may name it.
 */
export const EXPLORE_KEYS: readonly string[] = SLOT_KEYS.filter((k) =>
  REGISTERS.some((r) => r.slot?.key === k && (r.class === 'timer-view' || r.class === 'offset')));

export function exploreOffsets(keys: readonly string[] = EXPLORE_KEYS): Map<string, number> {
  const out = new Map<string, number>();
  let next = 0;
  for (const k of keys) {
    const a = architectedOffsetOf(k);
    if (a !== undefined) {
      out.set(k, a);
      continue;
    }
    while (next < VNCR_PAGE_BYTES && (architectedRegisterAt(next) !== undefined || [...out.values()].includes(next))) next += 8;
    out.set(k, next);
    next += 8;
  }
  return out;
}

export function subsetLayout(keys: readonly string[], mask: number, offsets: ReadonlyMap<string, number>): Layout {
  const regs = keys.filter((_, i) => mask & (1 << i));
  return {
    name: regs.length ? `{${regs.join(',')}}` : '{}',
    description: 'a subset under exploration',
    slots: new Map(regs.map((r) => [r, offsets.get(r)!])),
    source: 'explore',
  };
}

export interface ExcludedRegister {
  readonly reg: string;
  /** The layout whose counterexample is shown: the register alone, or a maximal set plus it. */
  readonly layout: Layout;
  readonly result: PropertyResult;
}

export interface Exploration {
  readonly guest: GuestMode;
  readonly keys: readonly string[];
  readonly maximal: string[][];
  readonly cheapest: Record<WorkloadName, { readonly slots: string[]; readonly trapsPer1000: number }>;
  readonly excluded: ExcludedRegister[];
  /** Subsets checked, and how many passed. */
  readonly checked: number;
  readonly passed: number;
  /** The exhaustive scope every layout's verdict includes (that of the empty layout). */
  readonly scope?: ExhaustiveSummary;
  /** The deeper scope every maximal set passed as well (macro alphabet, more random traces). */
  readonly verified?: { readonly scope: ExhaustiveSummary | undefined; readonly runs: number; readonly rounds: number; readonly refuted: number };
  readonly ms: number;
}

/** How the maximal sets are verified: the macro alphabet to this depth (letters), and this many random traces. */
export const VERIFY_DEPTH = 3;
export const VERIFY_RUNS = 3000;

export interface ExploreOptions extends LayoutOptions {
  /** Registers to explore. Default EXPLORE_KEYS: every timer view and offset that may take a slot. */
  readonly keys?: readonly string[];
}

export async function explore(guest: GuestMode, o: ExploreOptions): Promise<Exploration> {
  const t0 = performance.now();
  const keys = o.keys ?? EXPLORE_KEYS;
  const offsets = exploreOffsets(keys);
  const n = keys.length;
  const results = new Map<number, PropertyResult>();
  const judge = async (mask: number): Promise<PropertyResult> => {
    const hit = results.get(mask);
    if (hit) return hit;
    const r = await check({
      ...DEFAULT_CHECK_OPTIONS, impl: 'nv2', layout: subsetLayout(keys, mask, offsets), guest, hostEcvTraps: o.hostEcvTraps,
      runs: o.runs, seed: o.seed, maxOps: o.maxOps, properties: ['deferred'], ...pinsOf(o),
    });
    results.set(mask, r.results[0]!);
    return r.results[0]!;
  };
  for (let mask = 0; mask < 1 << n; mask++) await judge(mask);

  // Every counterexample found for one subset is tried on every subset that passed: an answer then
  // does not depend on which subset's random search happened to meet a trace.
  const pool = [...results.values()].flatMap((r) => (r.counterexample ? [r.counterexample] : []))
    .sort((a, b) => a.ops.length - b.ops.length);
  for (const [mask, r] of results) {
    if (r.verdict !== 'pass') continue;
    const layout = subsetLayout(keys, mask, offsets);
    for (const ce of pool) {
      const out = replayOn(layout, o, ce.config, ce.ops);
      if (!out.violation) continue;
      results.set(mask, {
        ...r, verdict: 'fail', counterexample: out, explanation: out.violation.explanation, phase: 'pool',
        token: encodeToken({ config: out.config, ops: out.ops }, replayInfo({ impl: 'nv2', hostEcvTraps: o.hostEcvTraps, ...(o.host ? { host: o.host } : {}) }, layout, 'deferred')),
      });
      break;
    }
  }

  // Verify the maximal sets deeper: the macro alphabet and more random traces. A refuted one joins the
  // pool (and so refutes every other passing subset it fails), and the maximal sets are recomputed.
  const passingMasks = (): number[] => [...results].filter(([, r]) => r.verdict === 'pass').map(([m]) => m);
  const maximalOf = (passing: readonly number[]): number[] => passing.filter((m) => !passing.some((p) => p !== m && (p & m) === m));
  const verifiedOk = new Set<number>();
  let rounds = 0, refuted = 0;
  let verifiedScope: ExhaustiveSummary | undefined;
  for (;;) {
    const todo = maximalOf(passingMasks()).filter((m) => !verifiedOk.has(m));
    if (!todo.length) break;
    rounds++;
    const newPool: Outcome[] = [];
    for (const mask of todo) {
      const r = await check({
        ...DEFAULT_CHECK_OPTIONS, impl: 'nv2', layout: subsetLayout(keys, mask, offsets), guest, hostEcvTraps: o.hostEcvTraps,
        runs: VERIFY_RUNS, seed: o.seed, maxOps: o.maxOps, properties: ['deferred'], ...pinsOf(o), depth: VERIFY_DEPTH, alphabet: MACRO_ALPHABET,
      });
      const v = r.results[0]!;
      if (v.verdict === 'pass') {
        verifiedOk.add(mask);
        verifiedScope ??= v.exhaustive;
      }
      else {
        refuted++;
        results.set(mask, v);
        if (v.counterexample) newPool.push(v.counterexample);
      }
    }
    for (const [mask, r] of results) {
      if (r.verdict !== 'pass') continue;
      const layout = subsetLayout(keys, mask, offsets);
      for (const ce of newPool) {
        const out = replayOn(layout, o, ce.config, ce.ops);
        if (!out.violation) continue;
        verifiedOk.delete(mask);
        results.set(mask, {
          ...r, verdict: 'fail', counterexample: out, explanation: out.violation.explanation, phase: 'pool',
          token: encodeToken({ config: out.config, ops: out.ops }, replayInfo({ impl: 'nv2', hostEcvTraps: o.hostEcvTraps, ...(o.host ? { host: o.host } : {}) }, layout, 'deferred')),
        });
        break;
      }
    }
  }

  const passing = passingMasks();
  const maximalMasks = maximalOf(passing);
  const toRegs = (m: number): string[] => keys.filter((_, i) => m & (1 << i));
  const maximal = maximalMasks.map(toRegs);

  const cheapest = {} as Exploration['cheapest'];
  for (const w of WORKLOADS) {
    let best: { slots: string[]; trapsPer1000: number } | undefined;
    for (const m of maximalMasks) {
      const c: TrapCost = trapCost(subsetLayout(keys, m, offsets), guest, o);
      if (!best || c[w] < best.trapsPer1000) best = { slots: toRegs(m), trapsPer1000: c[w] };
    }
    cheapest[w] = best ?? { slots: [], trapsPer1000: Number.NaN };
  }

  const excluded: ExcludedRegister[] = [];
  const opsOf = (r: PropertyResult): number => r.counterexample?.ops.length ?? Number.MAX_SAFE_INTEGER;
  for (let i = 0; i < n; i++) {
    if (maximalMasks.some((m) => m & (1 << i))) continue;
    // The shortest reason why it cannot be added to a conformant set: a maximal set plus it
    // (preferred on ties), else the register alone.
    const candidates = [...maximalMasks.map((m) => m | (1 << i)), 1 << i];
    let bestMask = candidates[0]!;
    for (const m of candidates) {
      const r = results.get(m)!;
      if (r.verdict === 'fail' && opsOf(r) < opsOf(results.get(bestMask)!)) bestMask = m;
    }
    excluded.push({ reg: keys[i]!, layout: subsetLayout(keys, bestMask, offsets), result: results.get(bestMask)! });
  }
  const scope = results.get(0)?.exhaustive;
  return {
    guest, keys, maximal, cheapest, excluded, checked: results.size, passed: passing.length, ms: performance.now() - t0, ...(scope ? { scope } : {}),
    verified: { scope: verifiedScope, runs: VERIFY_RUNS, rounds, refuted },
  };
}
